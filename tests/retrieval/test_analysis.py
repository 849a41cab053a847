"""Reading a question: script, width and spaces folded; English and pinyin places; intent; several parts."""
from __future__ import annotations

import pytest

from assistant.retrieval.analysis import analyse, intent_of, is_english, pinyin_places, simplify, split_parts

pytestmark = pytest.mark.unit

CITIES = ("南昌市", "郑州市中原区", "长沙市", "青岛市", "苏州市姑苏区")


def test_traditional_full_width_and_spaces_search_like_the_plain_question():
    assert simplify("長沙集團化學校合作期滿後還可以延長多久？") == "长沙集团化学校合作期满后还可以延长多久？"
    assert simplify("中原區 集團　成員校 限設１所") == "中原区集团成员校限设1所"
    assert simplify("青島的核心校校長") == "青岛的核心校校长"


def test_english_questions_are_recognised_and_gain_the_documents_terms():
    q = analyse("How long can a member school stay in an education group in Changsha?", CITIES)
    assert q.english and q.places == ("长沙市",)
    assert {"成员校", "教育集团", "时限"} <= set(q.terms)
    assert "长沙市" in q.search_text and "教育集团" in q.search_text
    assert not analyse("长沙 policy 的合作期限", CITIES).english


def test_places_in_pinyin_are_found_for_any_covered_city_and_district():
    assert pinyin_places("schools in Zhongyuan district", CITIES) == ("郑州市中原区",)
    assert pinyin_places("Qingdao and Nanchang", CITIES) == ("青岛市", "南昌市")
    assert pinyin_places("Gusu district of Suzhou", CITIES) == ("苏州市姑苏区",)
    assert pinyin_places("Beijing", CITIES) == ()


@pytest.mark.parametrize("question, intent", [
    ("长沙集团化办学指导意见的文号是多少？", "meta"),
    ("中原区那个实施方案现在正式生效了吗", "meta"),
    ("青岛那份解读解读的是哪份文件？", "meta"),
    ("哪个城市的意见是四个部门联合印发的", "which_city"),
    ("哪些地方规定了合作时限", "which_city"),
    ("长沙指导意见第二部分第3条讲的什么？", "lookup"),
    ("长沙那份指导意见，第五条写的是啥", "lookup"),
    ("青岛意见第三部分里的第（二）类是什么？", "lookup"),
    ("中原区的集团化办学实施方案现在是正式生效的吗？", "meta"),
    ("一所优质学校最多能带多少所学校？", "numeric"),
    ("青岛的集团化办学分成哪几种类型", "list"),
    ("合同没批下来，学校可以先签吗？", "prohibition"),
    ("成员校退出集团需要谁批准？", "approval"),
    ("集团的章程由谁制定", "fact"),
    ("《学前教育法》是从哪天开始施行的？", "meta"),
    ("义务教育法是什么时候施行的", "meta"),
    ("义务教育法什么时候施行的？", "meta"),
    ("这种做法是什么时候实施的？", "fact"),
    # the same asked in English; a document's kind named in passing ("under the draft plan, …") asks no field
    ("When did Changsha's guiding opinion on education groups take effect?", "meta"),
    ("Which departments jointly issued Qingdao's opinions on group-based schooling?", "meta"),
    ("What is the document number of Nanchang's implementation opinions?", "meta"),
    ("Is Zhongyuan District's plan still a draft for comment?", "meta"),
    ("Under Zhongyuan District's draft plan, what kinds of education groups are to be formed?", "list"),
    ("When can a member school leave the group in Qingdao?", "prohibition"),
])
def test_intent(question, intent):
    assert intent_of(simplify(question))[0] == intent


def test_a_document_field_needs_a_document_in_the_question():
    assert intent_of("哪个部门审批成立教育集团？")[0] == "approval"
    assert intent_of("南昌的实施意见是哪个部门发的？")[1] == ("issuer",)


def test_several_questions_in_one_message_are_split_and_a_short_tail_stays_with_its_part():
    assert split_parts("要报谁审批？合作期限一般多长？") == ["要报谁审批", "合作期限一般多长"]
    assert split_parts("成员校能退出吗？为什么？") == ["成员校能退出吗？为什么？"], "a short tail is no second question"
    assert split_parts("合作期限一般多长") == ["合作期限一般多长"]
    assert is_english("Who approves a new member school?") and not is_english("谁批准？OK")


def test_a_clause_number_reads_as_the_shallowest_clause_carrying_it():
    from types import SimpleNamespace

    from assistant.retrieval.query import clause_refs, structural_matches

    assert "五、" in clause_refs("第五条写的是啥")[0], "documents without articles number their parts 五、"
    rows = [SimpleNamespace(clause=c, title="指导意见", ordinal=i) for i, c in enumerate(
        ["三、主要举措 › 5. 构建退出机制", "五、本文件自2021年1月1日起施行", "三、主要举措 › 4. 激发办学活力"])]
    assert structural_matches("指导意见第五条写的是啥", rows, range(3)) == [1]
    assert structural_matches("第三部分第5条讲什么", rows, range(3)) == [0]
