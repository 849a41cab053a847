"""Charter requirements are grounded in the corpus; the checker flags exactly what a draft gets wrong."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.charter.check import check_charter, draft_sentences, evaluate, scope_for
from assistant.chunking.clauses import chunk_document
from assistant.errors import CharterError
from assistant.domain.quantities import extract
from assistant.charter.requirements import KINDS, TOPICS, load_book
from assistant.charter.suggest import suggest

from tests.conftest import CORPUS

pytestmark = pytest.mark.unit  # tests marked integration below override it

DRAFTS = Path(__file__).resolve().parent.parent / "data" / "charters"
BOOK = load_book(CORPUS)
CITIES = ("长沙市", "南昌市", "郑州市中原区", "青岛市")


def draft(name: str) -> str:
    return (DRAFTS / name).read_text(encoding="utf-8")


def flagged(report) -> tuple[set[str], set[str]]:
    return ({r.requirement.id for r in report.by_status("missing")},
            {r.requirement.id for r in report.by_status("conflict")})


# ---------------------------------------------------------------- grounding: nothing invented

def test_every_quote_is_verbatim_in_the_chunk_at_its_clause_path():
    docs = {d.doc_id: d for d in BOOK.docs}
    for req in BOOK.requirements:
        doc = docs[req.source.doc_id]
        chunks = [c for c in chunk_document(doc.doc_id, doc.text) if c.clause == req.source.clause]
        assert chunks, f"{req.id}: clause path not in chunk_document output: {req.source.clause}"
        assert any(req.source.quote in c.text for c in chunks), f"{req.id}: quote is not verbatim"
        assert doc.city == req.jurisdiction


def test_requirement_data_is_well_formed_and_covers_every_city():
    ids = [r.id for r in BOOK.requirements]
    assert len(ids) == len(set(ids))
    for req in BOOK.requirements:
        assert req.kind in KINDS and req.topic in TOPICS and req.summary and req.draft
        assert not req.provisional
    counts = {city: len(BOOK.curated(city)) for city in CITIES}
    assert all(n >= 15 for n in counts.values()), counts
    assert {r.kind for r in BOOK.requirements} == set(KINDS)
    raw = json.loads((CORPUS / "requirements.json").read_text(encoding="utf-8"))
    assert raw["version"] == 1


def test_issue_examples_are_curated_with_their_parameters():
    by_id = {r.id: r for r in BOOK.requirements}
    assert (by_id["cs-term"].parameter.op, by_id["cs-term"].parameter.value) == ("max", 6)
    assert (by_id["cs-extension"].parameter.op, by_id["cs-extension"].parameter.value) == ("max", 6)
    assert (by_id["cs-scale"].parameter.op, by_id["cs-scale"].parameter.value) == ("about", 10)
    assert (by_id["cs-one-per-district"].parameter.value, by_id["cs-one-per-district"].parameter.unit) == (1, "所")
    five = {"zy-rules", "zy-three-year-plan", "zy-annual-plan", "zy-research-project"}
    assert all("一个章程、一套管理制度、一个三年发展规划" in by_id[i].source.quote for i in five)
    assert by_id["nc-no-rename"].kind == "prohibition" and by_id["cs-brand-after-exit"].kind == "prohibition"
    assert by_id["nc-exit"].topic == "membership" and by_id["qd-exit"].kind == "procedure"


def test_each_requirements_own_wording_meets_it():
    for req in BOOK.requirements:
        result = evaluate(req, draft_sentences(req.draft))
        assert result.status == "met", (req.id, result.note)


def test_an_invented_quote_or_clause_is_refused(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    data = json.loads((corpus / "requirements.json").read_text(encoding="utf-8"))
    data["requirements"][0]["source"]["quote"] = "合作时限一般为十年"
    (corpus / "requirements.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CharterError, match="引文不是该条款原文"):
        load_book(corpus)
    data["requirements"][0]["source"]["clause"] = "三、主要举措 › 9. 不存在的条款"
    (corpus / "requirements.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CharterError, match="条款不存在"):
        load_book(corpus)


# ---------------------------------------------------------------- drafts under tests/data/charters

@pytest.mark.parametrize("name, city, group_type, total", [
    ("changsha-compliant.md", "长沙市", None, 20),
    ("nanchang-compliant.md", "南昌市", "合作发展型", 16),
    ("nanchang-gongtongti.md", "南昌市", "城乡发展共同体", 6),
    ("zhongyuan-compliant.txt", "郑州市中原区", "引领型", 14),
    ("qingdao-compliant.md", "青岛市", "聚合型", 17),
])
def test_compliant_drafts_meet_every_requirement(name, city, group_type, total):
    report = check_charter(BOOK, draft(name), city)  # the group type is read from the draft
    assert report.group_type == group_type
    assert len(report.results) == total
    assert flagged(report) == (set(), set()), [(r.requirement.id, r.note) for r in report.results
                                                if r.status != "met"]
    assert report.passed and report.score == 100
    assert all(r.evidence for r in report.results)


@pytest.mark.parametrize("name, city, missing, conflict", [
    ("changsha-conflicts.txt", "长沙市", set(),
     {"cs-term", "cs-scale", "cs-joint-exam", "cs-brand-after-exit", "cs-contract-review"}),
    ("changsha-omissions.md", "长沙市",
     {"cs-expiry-notice", "cs-joint-exam", "cs-brand-new-group", "cs-one-per-district"}, set()),
    ("nanchang-rename.txt", "南昌市", set(), {"nc-no-rename"}),
    ("zhongyuan-gaps.txt", "郑州市中原区",
     {"zy-annual-plan", "zy-research-project"}, {"zy-three-year-plan", "zy-lead-independence"}),
    ("qingdao-conflicts.md", "青岛市", {"qd-fusion-unified", "qd-exit"}, {"qd-fusion-scope", "qd-enrollment"}),
])
def test_drafts_with_omissions_and_conflicts_are_flagged_exactly(name, city, missing, conflict):
    report = check_charter(BOOK, draft(name), city)
    assert flagged(report) == (missing, conflict)
    assert report.score < 100 and not report.passed


def test_conflicts_carry_the_draft_sentence_and_the_cited_clause():
    report = check_charter(BOOK, draft("changsha-conflicts.txt"), "长沙市")
    term = next(r for r in report.results if r.requirement.id == "cs-term")
    assert term.evidence == "第十二条 合作期限为八年。"
    assert "八年" in term.note and "不超过6年" in term.note
    assert term.requirement.source.clause == "三、主要举措 › 5. 构建退出机制 › 限定合作时间"
    exam = next(r for r in report.results if r.requirement.id == "cs-joint-exam")
    assert "折合2次" in exam.note  # once per semester is twice a year
    rename = check_charter(BOOK, draft("nanchang-rename.txt"), "南昌市").by_status("conflict")[0]
    assert rename.evidence == "合作期间，成员校可更名为“某某教育集团某某校”。"
    assert rename.requirement.source.quote.startswith("集团学校在合作期内部不得随意更改校名")


# ---------------------------------------------------------------- numbers, negation, permission

@pytest.mark.parametrize("sentence, status", [
    ("本集团合作期限为八年。", "conflict"),
    ("本集团合作期限为8年。", "conflict"),
    ("本集团合作期限为８年。", "conflict"),
    ("合作期为2021年9月1日至2029年8月31日。", "conflict"),
    ("本集团合作期限为六年。", "met"),
    ("本集团合作期限为6年。", "met"),
    ("合作期限：自签约之日起，共五年。", "met"),
    ("本集团合作期限另行约定。", "missing"),
])
def test_term_numbers_in_chinese_and_arabic_numerals(sentence, status):
    report = check_charter(BOOK, sentence, "长沙市")
    assert next(r for r in report.results if r.requirement.id == "cs-term").status == status


@pytest.mark.parametrize("sentence, rid, status", [
    ("合作期满后可续约，续约期限不超过十年。", "cs-extension", "conflict"),
    ("合作期满后可延长两年。", "cs-extension", "met"),
    ("集团成员学校共12所。", "cs-scale", "met"),  # "10所左右"
    ("集团成员学校共十五所。", "cs-scale", "conflict"),
    ("在同一区县设两所合作学校。", "cs-one-per-district", "conflict"),
    ("合作期满，优质学校提前三个月向教育局报备。", "cs-expiry-notice", "conflict"),
    ("合作期满，优质学校提前一年向教育局报备。", "cs-expiry-notice", "met"),
    ("每年组织一次联考。", "cs-joint-exam", "met"),
    ("每学期组织一次联考。", "cs-joint-exam", "conflict"),
])
def test_changsha_limits(sentence, rid, status):
    report = check_charter(BOOK, sentence, "长沙市")
    assert next(r for r in report.results if r.requirement.id == rid).status == status


@pytest.mark.parametrize("sentence, status", [
    ("合作期内，集团学校不得随意更改校名。", "met"),
    ("成员校可更名为“XX集团XX校”。", "conflict"),
    ("合作期间允许成员学校更名。", "conflict"),
    ("确需更名的，可报教育主管部门备案后更名。", "missing"),  # the permitted path, not a conflict
    ("成员校更名事宜另行商定。", "missing"),
])
def test_prohibition_needs_negation_and_flags_permission(sentence, status):
    report = check_charter(BOOK, sentence, "南昌市")
    assert next(r for r in report.results if r.requirement.id == "nc-no-rename").status == status


def test_public_schools_may_keep_marks_but_private_ones_may_not():
    kept = check_charter(BOOK, "市内公办学校合作终止后可保留集团化管理存续期间校名及文化标识。", "长沙市")
    assert next(r for r in kept.results if r.requirement.id == "cs-brand-after-exit").status == "missing"
    private = check_charter(BOOK, "民办学校合作终止后可继续使用集团品牌。", "长沙市")
    assert next(r for r in private.results if r.requirement.id == "cs-brand-after-exit").status == "conflict"


def test_denying_a_required_step_is_a_conflict():
    report = check_charter(BOOK, "本章程无需在区教育局备案。本集团不设理事会。", "郑州市中原区")
    assert next(r for r in report.results if r.requirement.id == "zy-filing").status == "conflict"
    nanchang = check_charter(BOOK, "本集团不设理事会。", "南昌市")
    assert next(r for r in nanchang.results if r.requirement.id == "nc-council").status == "conflict"


def test_quantities_ignore_ordinals_and_calendar_years():
    units = {"年": 1.0}
    assert [q.value for q in extract("第三年起，2021年开始，合作十二年", units)] == [12.0]
    assert [q.value for q in extract("提前半年", {"个月": 1.0, "年": 12.0})] == [6.0]


# ---------------------------------------------------------------- scope: cities, types, notices

def test_city_aliases_and_unknown_cities():
    assert check_charter(BOOK, "合作期限为八年。", "长沙").city == "长沙市"
    assert check_charter(BOOK, "本集团成立理事会。", "中原区").city == "郑州市中原区"
    with pytest.raises(CharterError, match="语料中没有北京"):
        check_charter(BOOK, "合作期限为八年。", "北京")
    with pytest.raises(CharterError, match="为空"):
        check_charter(BOOK, "  ", "长沙市")


def test_group_types_select_type_specific_requirements():
    ids = lambda scope: {r.id for r in scope.requirements}  # noqa: E731
    general = ids(scope_for(BOOK, "青岛市"))
    fusion = ids(scope_for(BOOK, "青岛市", "融合型"))
    assert fusion - general == {"qd-fusion-scope", "qd-fusion-unified"}
    assert ids(scope_for(BOOK, "南昌市", "紧密型")) == ids(scope_for(BOOK, "南昌市", "紧密融合型"))
    community = ids(scope_for(BOOK, "南昌市", "城乡发展共同体"))
    assert community and all(i.startswith("ng-") for i in community)  # only the 共同体 document applies
    with pytest.raises(CharterError, match="可选类型：融合型、聚合型、联合型"):
        scope_for(BOOK, "青岛市", "紧密型")
    changsha = scope_for(BOOK, "长沙市", "紧密型")  # Changsha defines no types: a label only
    assert changsha.group_type == "紧密型" and any("仅作为名称" in n for n in changsha.notices)


def test_draft_and_interpretation_sources_are_announced():
    zhongyuan = check_charter(BOOK, draft("zhongyuan-compliant.txt"), "郑州市中原区")
    assert any("征求意见稿" in n for n in zhongyuan.notices)
    qingdao = check_charter(BOOK, draft("qingdao-compliant.md"), "青岛市")
    assert any("政策解读" in n for n in qingdao.notices)


def test_report_markdown_and_json():
    report = check_charter(BOOK, draft("changsha-conflicts.txt"), "长沙市")
    md = report.to_markdown()
    assert md.startswith("# 章程合规检查报告：长沙市")
    assert "## 冲突（须修改）：5 项" in md and "## 已符合：15 项" in md
    assert "「第十二条 合作期限为八年。」" in md and "> 集团化学校合作时限一般为六年" in md
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["counts"] == {"met": 15, "missing": 0, "conflict": 5} and data["score"] == 75
    term = next(r for r in data["results"] if r["id"] == "cs-term")
    assert term["requirement"]["source"]["doc_id"] == "changsha-jituan-2020"
    assert term["requirement"]["parameter"]["description"] == "不超过6年"


# ---------------------------------------------------------------- suggestions and fallback

def test_suggestions_quote_clause_sentences_and_mark_curated_ones():
    candidates = suggest(BOOK, "changsha-jituan-2020")
    chunks = {c.clause: c.text for c in chunk_document("changsha-jituan-2020", BOOK.doc("changsha-jituan-2020").text)}
    assert all(c.quote in chunks[c.clause] and c.status == "待确认" for c in candidates)
    term = next(c for c in candidates if "合作时限一般为六年" in c.quote)
    assert term.kind == "limit" and term.parameter.describe() == "不超过6年"
    assert set(term.curated) == {"cs-term", "cs-extension"}
    branch = next(c for c in candidates if "不得设立合作学校分校" in c.quote)
    assert branch.kind == "prohibition" and branch.curated == ()
    with pytest.raises(CharterError, match="没有文档"):
        suggest(BOOK, "no-such-doc")


def test_city_without_curated_list_falls_back_to_provisional_candidates(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    data = json.loads((corpus / "requirements.json").read_text(encoding="utf-8"))
    data["requirements"] = [r for r in data["requirements"] if r["jurisdiction"] != "长沙市"]
    data["jurisdictions"] = [j for j in data["jurisdictions"] if j["city"] != "长沙市"]
    (corpus / "requirements.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    book = load_book(corpus)

    report = check_charter(book, "集团化学校合作时限为八年。", "长沙市")
    assert report.provisional and all(r.requirement.provisional for r in report.results)
    assert any("待确认" in n for n in report.notices) and "待确认｜" in report.to_markdown()
    term = next(r for r in report.results if "合作时限一般为六年" in r.requirement.source.quote)
    assert term.status == "conflict"
    assert check_charter(book, "本集团成立理事会。", "南昌市").provisional is False
