"""Which sentence (or candidate) is specific to a question: words and character pairs weighted by how few
of the units hold them."""
from __future__ import annotations

import pytest

from assistant.retrieval.focus import asked_marks, asking_text, bigrams, question_focus, skip_bigrams, specificity

pytestmark = pytest.mark.unit


def test_the_place_and_the_fields_common_words_are_not_focus():
    terms, pairs = question_focus("青岛各区市集团化办学的改革创新项目要向谁报备")
    assert "报备" in terms and "青岛" not in terms and "集团化办学" not in terms
    assert "报备" in pairs


def test_the_unit_holding_the_words_the_others_lack_is_the_most_specific():
    units = ["鼓励各区市在集团化办学模式、管理体制、支持保障等方面进行创新。", "改革创新项目应向市教育局提前报备，稳妥实施。"]
    terms, pairs = specificity(units, "各区市集团化办学的改革创新项目要向哪里报备")
    assert terms[1] > terms[0] and terms[1] + pairs[1] > terms[0] + pairs[0]


def test_character_pairs_match_what_segmentation_splits_differently():
    units = ["核心校发挥引领作用。", "每增加1所成员校，由所属教育行政部门每年向核心校拨付专项奖补经费。"]
    _, pairs = specificity(units, "局里会给我们拨经费吗")
    assert pairs[1] > pairs[0]
    assert bigrams("拨付经费") == {"拨付", "付经", "经费"}


def test_no_shared_word_gives_zero_not_an_error():
    assert specificity(["甲。", "乙。"], "完全无关的问题") == ([0.0, 0.0], [0.0, 0.0])


def test_the_clauses_that_ask_are_told_from_the_ones_that_set_the_scene():
    question = "我们是集团里的成员校，自己还是独立法人。核心校能不能派个执行校长过来？"
    assert asking_text(question) == "核心校能不能派个执行校长过来？"
    # a bare "是真的吗？" asks about the clause before it
    assert "人事关系" in asking_text("听说以后人事关系都要并到城里去，是真的吗？")
    assert "听说" not in asking_text("我们是成员校，听说了一件事。以后人事关系都要并到城里去，是真的吗？")
    # nothing asks: the whole question
    assert asking_text("集团章程的主要内容") == "集团章程的主要内容"


def test_the_sentence_holding_the_asked_words_is_the_specific_one_for_the_asking_clause():
    units = ["成员校保持独立法人、实施独立管理。", "核心校可派出执行校长和骨干教师到成员校任职。"]
    question = "我们是集团里的成员校，自己还是独立法人。核心校能不能派个执行校长过来？"
    whole, _ = specificity(units, question)
    asked, _ = specificity(units, asking_text(question))
    assert asked[1] > asked[0] and asked[0] == 0.0
    assert whole[0] > 0.0  # the scene's words make the other sentence look relevant on the whole question


def test_pairs_one_character_apart_match_what_the_documents_contract():
    assert "直升" in skip_bigrams("能不能直接升到本部高中") and "直升" not in bigrams("能不能直接升到本部高中")
    units = ["调整指标生招生办法，优质普通高中的指标生招生计划可适当倾斜。", "从2021年起，取消集团办学对口直升生计划。"]
    _, pairs = specificity(units, "孩子以后能不能直接升到本部去")
    assert pairs[1] > pairs[0]


def test_the_questions_own_year_and_quoted_term_mark_the_sentence_that_answers():
    units = ["到2025年，全市至少建立30个教育集团。", "到2020年，全市至少建立10个教育集团。", "坚持试点先行。"]
    figures, quotes = asked_marks(units, "到2020年全市要建起多少个教育集团？")
    assert figures == [-1.0, 1.0, 0.0], "another year is a conflict, the asked year a match, no year nothing"
    assert quotes == [0.0, 0.0, 0.0], "nothing quoted in the question"
    units = ["集团化办学基本模式为“1+N+X”模式。", "“X”是指企业、综合高中、高等教育机构等各类团体。"]
    _, quotes = asked_marks(units, "“1+N+X”模式里的“X”指的是哪些？")
    assert quotes[1] > quotes[0] > 0, "quoting the term as the question does beats containing it"


def test_a_question_that_marks_nothing_gives_zeros():
    assert asked_marks(["甲。", "乙2021年。"], "合作期限多长") == ([0.0, 0.0], [0.0, 0.0])
    assert asked_marks(["１０所左右。"], "最多10所吗")[0] == [1.0], "full-width digits are folded"
