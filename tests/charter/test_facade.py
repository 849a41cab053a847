"""`Assistant.check_charter` / `.charter_skeleton` on the real assistant the web app uses."""
from __future__ import annotations

import pytest

from assistant.charter.check import CharterReport
from assistant.charter.skeleton import Skeleton

from tests.charter.test_check import DRAFTS

pytestmark = pytest.mark.integration


def test_check_charter_and_skeleton_through_the_api(assistant):
    report = assistant.check_charter((DRAFTS / "changsha-conflicts.txt").read_text(encoding="utf-8"), "长沙市")
    assert isinstance(report, CharterReport) and report.counts["conflict"] == 5
    skeleton = assistant.charter_skeleton("青岛市", "聚合型")
    assert isinstance(skeleton, Skeleton)
    assert assistant.check_charter(skeleton.to_markdown(), "青岛市").passed
    assert len(assistant.charter_requirements("长沙市")) == 20
    assert assistant.suggest_requirements("qingdao-yijian")
