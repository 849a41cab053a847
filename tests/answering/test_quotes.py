"""Choosing the sentence that answers: verbatim, never a heading alone, extended when a list or a figure
continues; and the one-line conclusion made only of the cited sentence's own phrases."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.conclusion import conclude, phrases
from assistant.answering.quotes import best_quote, heading_like
from assistant.domain.values import Citation
from assistant.retrieval.analysis import analyse

pytestmark = pytest.mark.unit

CITIES = ("长沙市", "青岛市")
TERM = "限定合作时间。集团化学校合作时限一般为六年，根据需要可适当延长，延长时间原则上不超过六年。"


def test_a_heading_is_never_the_quote_alone():
    assert heading_like("限定合作时间。") and heading_like("1. 建设紧密融合型教育集团。")
    assert not heading_like("集团化学校合作时限一般为六年，根据需要可适当延长。")
    quote = best_quote(TERM, "合作时间", analyse("合作时间", CITIES))
    assert quote != "限定合作时间。" and quote in TERM and "六年" in quote


def test_the_sentence_with_the_asked_figure_wins_and_a_list_continues():
    text = "优质学校要发挥引领作用。合作期满，优质学校应提前半年向所属教育主管部门报备。合作学校应保留独立办学主体。"
    q = analyse("合作期满要提前多长时间报备？", CITIES)
    assert best_quote(text, q.text, q) == "合作期满，优质学校应提前半年向所属教育主管部门报备。"
    listing = "主要包括以下内容：\n（1）统一管理制度；\n（2）统一教学计划。\n其他事项另行规定。"
    q = analyse("包括哪些内容", CITIES)
    assert best_quote(listing, q.text, q) == "主要包括以下内容：\n（1）统一管理制度；\n（2）统一教学计划。"


def _citation(n, city, quote):
    return Citation(chunk_id=f"c{n}", doc_id="d", title="t", city=city, doc_number=None, clause="x",
                    status="official", text=TERM, score=1.0, n=n, quote=quote)


def test_the_conclusion_is_made_of_the_quotes_own_phrases_with_their_number():
    assert phrases("原则上，优质学校应在同一学段开展合作，每所规模应控制在10所左右。") == [
        "原则上，优质学校应在同一学段开展合作", "每所规模应控制在10所左右"]
    q = analyse("长沙集团化办学的合作期限是多久？", CITIES)
    cite = _citation(2, "长沙市", "集团化学校合作时限一般为六年，根据需要可适当延长，延长时间原则上不超过六年。")
    line = conclude((cite,), {2: q})
    assert line.startswith("长沙市：") and line.endswith("[2]")
    body = line[len("长沙市："):-len("[2]")]
    assert all(p in cite.quote for p in body.split("，")) and "六年" in body


def test_no_conclusion_when_no_phrase_carries_the_answer():
    q = analyse("长沙对集团校服颜色有什么规定？", CITIES)
    assert conclude((_citation(1, "长沙市", "加强宣传引导，营造良好氛围。"),), {1: q}) == ""


def test_a_clause_asked_for_by_its_number_is_quoted_from_its_opening():
    text = "（三）加强考核督导。构建集团化办学考核评估体系。将提升成员校教育质量作为业绩考核的重要内容。"
    q = analyse("中原区实施方案六、保障机制第（三）条讲什么？", CITIES)
    assert q.intent == "lookup"
    assert best_quote(text, q.text, q) == text, "its heading sentence says what it is about"
    long_text = "（一）总则。" + "这是一个很长的句子，" * 30 + "结束。第二句。"
    assert best_quote(long_text, q.text, q) == long_text[:-len("第二句。")], "at least one sentence past the heading"


def test_the_sentence_specific_to_the_question_wins_over_the_one_naming_its_topic():
    text = "鼓励各区市在集团化办学模式、管理体制、支持保障等方面进行创新。改革创新项目应向市教育局提前报备，稳妥实施。"
    q = analyse("青岛各区市集团化办学的改革创新项目要向谁报备", CITIES)
    assert best_quote(text, q.text, q) == "改革创新项目应向市教育局提前报备，稳妥实施。"


def test_the_conclusion_takes_the_phrase_that_says_what_holds_next_to_the_one_naming_the_topic():
    quote = "引领型教育集团要成立理事会，理事长由引领学校校长担任，负责集团发展规划。"
    q = analyse("中原区引领型教育集团成立理事会的话，理事长是谁来担任？", CITIES)
    line = conclude((_citation(1, "长沙市", quote),), {1: q})
    assert "理事长由引领学校校长担任" in line and line[len("长沙市："):-len("[1]")] in quote


def test_no_conclusion_for_a_clause_lookup_or_an_unsure_first_clause():
    q = analyse("长沙指导意见第二部分第3条讲的什么？", CITIES)
    assert conclude((_citation(1, "长沙市", "集团化学校合作时限一般为六年。"),), {1: q}) == ""
    unsure = Citation(chunk_id="c1", doc_id="d", title="t", city="长沙市", doc_number=None, clause="x",
                      status="official", text=TERM, score=0.3, n=1, quote="集团化学校合作时限一般为六年。")
    assert conclude((unsure,), {1: analyse("长沙合作期限多久", CITIES)}) == ""


def test_an_unsure_choice_between_neighbouring_sentences_quotes_both():
    from assistant.answering.quotes import _with_close_neighbour

    assert _with_close_neighbour(np.asarray([0.1, 2.0, 1.8, -1.0]), 1) == (1, 3)  # σ(0.2) ≈ 0.55: both
    assert _with_close_neighbour(np.asarray([1.7, 2.0, 0.1, -1.0]), 1) == (0, 2)  # the one before it too
    assert _with_close_neighbour(np.asarray([0.1, 2.0, -1.0]), 1) == (1, 2)  # sure: the best alone
    assert _with_close_neighbour(np.asarray([1.9, 0.0, 2.0]), 2) == (2, 3)  # runner-up not beside it
    assert _with_close_neighbour(np.asarray([2.0]), 0) == (0, 1)


def test_a_short_conclusion_keeps_both_neighbours_of_the_best_phrase():
    quote = "集团化学校合作时限一般为六年，根据需要可适当延长，延长时间原则上不超过六年。"
    q = analyse("长沙集团化学校合作期满后还可以延长多久？", CITIES)
    line = conclude((_citation(1, "长沙市", quote),), {1: q})
    assert line == "长沙市：集团化学校合作时限一般为六年，根据需要可适当延长，延长时间原则上不超过六年[1]"



@pytest.mark.parametrize("text, question, answer", [
    ("核心校与成员校建立紧密的合作关系，成员校保持独立法人、实施独立管理。核心校可派出执行校长和骨干教师到成员校任职。",
     "我们是青岛一个集团里的成员校，跟核心校合作挺紧密，自己还是独立法人、独立管理。核心校能不能派个执行校长过来？",
     "核心校可派出执行校长和骨干教师到成员校任职。"),
    ("成员校退出。办学质量优的成员校、按照合作协议约定时间到期学校，可以向核心校提出申请。成员校更名。集团学校在合作期内不得随意更改校名。",
     "我们成员校合作协议还没到期，新班子想改校名，自己能定吗？", "集团学校在合作期内不得随意更改校名。"),
])
def test_the_sentence_answering_what_is_asked_wins_over_the_one_matching_the_scene(text, question, answer):
    # the scene a principal sets shares more words with another sentence than the clause that asks does
    q = analyse(question, CITIES)
    assert best_quote(text, q.text, q) == answer
