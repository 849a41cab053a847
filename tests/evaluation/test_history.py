"""Runs kept in a directory are found again (the 评测 tab's "上次" column and its time estimate)."""
from __future__ import annotations

import json

import pytest

from assistant.evaluation.report import last_run

pytestmark = pytest.mark.unit


def _run(root, name, recall, seconds=None):
    folder = root / name
    folder.mkdir(parents=True)
    metrics = {"all": {"headline": {"recall_at_5": recall}, "answers": {"items": 6}}}
    (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    config = {"mode": "extractive", **({"seconds": seconds, "items": 6} if seconds else {})}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")


def test_the_newest_run_and_the_one_before_it(tmp_path):
    assert last_run(tmp_path) is None and last_run(tmp_path / "missing") is None
    _run(tmp_path, "20250101-090000", 0.8)  # before runs recorded their time
    _run(tmp_path, "20250102-090000", 0.9, seconds=3.0)
    (tmp_path / "20250103-090000").mkdir()  # an interrupted run: no files
    newest = last_run(tmp_path)
    assert newest["name"] == "20250102-090000" and newest["seconds"] == 3.0 and newest["items"] == 6
    older = last_run(tmp_path, before=newest["name"])
    assert older["name"] == "20250101-090000" and older["seconds"] is None and older["items"] == 6
    assert older["metrics"]["all"]["headline"]["recall_at_5"] == 0.8
    assert last_run(tmp_path, before=older["name"]) is None
