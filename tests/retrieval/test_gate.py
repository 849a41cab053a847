"""Question-level evidence for refusal, over the real index of the bundled corpus."""
from __future__ import annotations

import pytest

from assistant.retrieval.rerank import asked_elsewhere_share, asked_unknown_share

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


# written for this test from the documents: only Qingdao's mention 黄牌预警、红牌淘汰, and 城乡 and 结对 are
# Nanchang's words that Zhongyuan's plan never uses
@pytest.mark.parametrize("question, city", [
    ("长沙对不履行协议的合作学校有没有黄牌预警、红牌淘汰？", "长沙市"),
    ("郑州中原区的城乡共同体怎么结对？", "郑州市中原区"),
])
def test_what_only_another_city_mentions_counts_for_the_city_asked(assistant, question, city):
    share = asked_elsewhere_share(question, assistant.snapshot, (city,))
    assert share > 0.3
    assert asked_elsewhere_share(question, assistant.snapshot, ()) == 0  # no place asked: no "elsewhere"


@pytest.mark.parametrize("question, city", [
    ("长沙合作学校能不能提前退出集团？", "长沙市"),
    ("青岛的黄牌预警、红牌淘汰是怎么回事？", "青岛市"),
])
def test_what_the_city_asked_mentions_does_not_count(assistant, question, city):
    assert asked_elsewhere_share(question, assistant.snapshot, (city,)) == 0


def _outside_coverage_gap(assistant, question, city):
    from assistant.retrieval.rerank import ANSWERABLE_FEATURES

    answerer = assistant.answerer
    ranked = answerer.candidates(answerer.analyse(question), (city,))
    return ranked.evidence[ANSWERABLE_FEATURES.index("outside_coverage_gap")]


def test_another_places_clause_is_read_in_its_own_documents_vocabulary(assistant):
    # Qingdao's clause holds 黄牌预警、红牌淘汰; read with Changsha's vocabulary those words weighed nothing and the
    # clause covered no more of the question than Changsha's nearest clause
    assert _outside_coverage_gap(assistant, "长沙对不履行协议的合作学校有没有黄牌预警、红牌淘汰？", "长沙市") < -0.2
    # asked of Qingdao, which says it, no other place covers more of the question
    assert _outside_coverage_gap(assistant, "青岛对不履行协议的成员校有没有黄牌预警、红牌淘汰？", "青岛市") >= 0


@pytest.mark.parametrize("question,expected", [
    ("长沙的集团化办学合作时限一般是多久？", -1.0),  # the best clause gives the figure (六年)
    ("长沙的集团理事会每年要开几次会？", 1.0),  # clauses on the topic, none with a count of meetings
    ("长沙的合作学校能不能提前退出？", 0.0)])  # no figure asked
def test_the_gate_reads_whether_the_best_clauses_give_the_figure_asked_for(assistant, question, expected):
    from assistant.retrieval.rerank import ANSWERABLE_FEATURES

    answerer = assistant.answerer
    query = answerer.analyse(question)
    ranked = answerer.candidates(query, ("长沙市",))
    assert ranked.evidence[ANSWERABLE_FEATURES.index("asked_figure")] == expected
