"""Question-level evidence for refusal, over the real index of the bundled corpus."""
from __future__ import annotations

import pytest

from assistant.retrieval.rerank import asked_unknown_share

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("question", [
    "青岛的教育集团里，几所学校食堂的食材能不能统一招标采购？",
    "南昌教育集团的学生到成员校参加活动，意外伤害保险由谁来买？",
])
def test_an_asked_topic_the_documents_never_mention_counts(assistant, question):
    assert asked_unknown_share(question, assistant.snapshot) > 0


@pytest.mark.parametrize("question", [
    "青岛成员校能不能提前退出集团？",
    # slang the documents do not use, but it names no topic of its own (掏钱 is a verb)
    "我们县的初中想加入市里的集团，是不是得掏钱？",
    # an unknown topic in the scene a parent sets, not in what is asked
    "我家娃的班主任说集团要搞活动。南昌集团每学期组织艺术节吗？",
])
def test_colloquial_words_and_the_scene_do_not_count(assistant, question):
    assert asked_unknown_share(question, assistant.snapshot) == 0
