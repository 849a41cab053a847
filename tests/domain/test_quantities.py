"""Figures a question asks for, and whether a clause gives one (pure text logic)."""
from __future__ import annotations

import pytest

from assistant.domain.quantities import asked_units, states_figure

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("question,unit", [
    ("录像按规定最少要保存多少天？", "天"), ("每周必须开几节体育课？", "节"), ("一次最多能放多少分钟？", "分钟"),
    ("学校周边多远范围内不能建？", "米"), ("合作时限多久？", "年"), ("班主任津贴每个月应该发多少？", "元"),
    ("一所名校最多能带多少所学校？", "所"), ("教师交流的比例是多少？", "%")])
def test_a_question_asking_for_a_figure_names_its_unit(question, unit):
    assert unit in asked_units(question)


@pytest.mark.parametrize("question", ["谁来审批？", "能不能提前退出集团？", "孩子上几年级可以参加？", "有哪些要求？",
                                      "有个学生连着几天不来上学，学校这时候应该怎么做？",  # 几天: "a few days"
                                      "合作了几年的学校是否还要交费？"])
def test_a_question_asking_for_no_figure_names_none(question):
    assert asked_units(question) == ()


def test_a_figure_in_any_unit_of_the_family_answers():
    days = asked_units("多少天")
    assert states_figure("录像资料保存不少于九十天。", days)
    assert states_figure("在整改结束之日起十日内报告。", days)  # 日 answers 天
    assert states_figure("保存期限为 30 天", days)
    assert not states_figure("按照规定时间保存录像资料。", days)  # the topic without the figure
    assert not states_figure("每班不超过45人。", days)
    share = asked_units("比例是多少")
    assert states_figure("交流比例不低于百分之十五", share) and states_figure("不低于5%", share)
