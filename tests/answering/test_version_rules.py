"""Which version of a document stood where on a given day, and which versions a request may cite: pure
functions over catalogue entries (no index)."""
from __future__ import annotations

import pytest

from assistant.answering.versions import check_export, notices, resolve, stamp
from assistant.domain.values import Citation
from assistant.domain.versions import current_version, parse_day, state, version_date
from assistant.errors import QuestionError

pytestmark = pytest.mark.unit

# 行政复议法 as the metadata reader catalogues it: the 2017 text still states its first 施行 date (1999)
LAW = {
    "v2017": {"title": "中华人民共和国行政复议法", "status": "official", "adopted_date": "2017-09-01",
              "effective_date": "1999-10-01", "superseded_by": "v2023"},
    "v2023": {"title": "中华人民共和国行政复议法", "status": "official", "adopted_date": "2023-09-01",
              "effective_date": "2024-01-01", "supersedes": "v2017"},
}


def test_a_version_is_known_by_its_own_date_not_by_its_first_texts():
    assert version_date(LAW["v2017"]) == "2017-09-01"  # 施行 1999 belongs to the first text
    assert version_date(LAW["v2023"]) == "2024-01-01"
    assert version_date({"date": "2021"}) == "2021"
    assert version_date({}) is None


@pytest.mark.parametrize("day, old, new", [
    ("2016-01-01", "not_yet", "not_yet"),
    ("2023-10-01", "in_force", "not_yet"),  # adopted, not yet in force: the old text still governs
    ("2024-01-01", "amended", "in_force"),
])
def test_the_standing_of_each_version_on_a_day(day, old, new):
    assert (state("v2017", LAW, day), state("v2023", LAW, day)) == (old, new)
    assert current_version("v2017", LAW, day) == {"not_yet": None, "in_force": "v2017", "amended": "v2023"}[old]


def test_drafts_repealed_expired_trial_and_interpretations():
    docs = {
        "draft": {"status": "draft", "superseded_by": "final"},
        "final": {"status": "official", "supersedes": "draft", "effective_date": "2023-03-01"},
        "gone": {"status": "official", "validity": "repealed"},
        "ended": {"status": "official", "date": "2019-01-01", "expiry_date": "2022-01-01"},
        "trial": {"status": "official", "validity": "trial"},
        "note": {"status": "interpretation", "interprets": "gone"},
    }
    on = "2024-01-01"
    assert {d: state(d, docs, on) for d in docs} == {
        "draft": "finalised", "final": "in_force", "gone": "repealed", "ended": "expired", "trial": "trial",
        "note": "repealed"}  # an interpretation falls with the text it explains
    assert state("draft", docs, "2022-06-01") == "draft"  # before the final text took effect
    assert state("ended", docs, "2021-12-31") == "in_force"


def test_a_request_sees_the_versions_in_force_on_its_day():
    assert resolve(LAW, now="2025-05-01").visible == {"v2023"}
    assert resolve(LAW, "2023-10-01", now="2025-05-01").visible == {"v2017"}
    assert resolve(LAW, include_outdated=True, now="2025-05-01").visible == {"v2017", "v2023"}
    assert resolve(LAW, "2023年10月1日", now="2025-05-01").as_of == "2023-10-01"


def test_a_day_before_every_document_is_refused_clearly():
    with pytest.raises(QuestionError, match="2000-01-01 时语料中还没有任何已施行的文件.*请换一个更晚的日期"):
        resolve({"v2023": {**LAW["v2023"], "supersedes": None}}, "2000-01-01")
    with pytest.raises(QuestionError, match="日期格式有误"):
        parse_day("2023-13-01")


def test_citations_record_hash_version_and_standing_and_outdated_ones_are_labelled():
    versions = resolve(LAW, include_outdated=True, now="2025-05-01")
    cited = stamp(Citation("c1", "v2017", "中华人民共和国行政复议法", "全国", None, "第九条", "official", "……", 1.0, 1),
                  LAW, {"v2017": "abc123"}, versions)
    assert (cited.doc_sha256, cited.version, cited.force) == ("abc123", "2017-09-01", "amended")
    assert cited.to_dict()["force_label"] == "已修正"
    told = notices((cited,), LAW, versions, now="2025-05-01")
    assert any("[1] 出自已修正的版本" in n and "2024-01-01" in n for n in told)


def test_an_exported_answer_is_checked_against_the_corpus_later():
    exported = {"citations": [{"n": 1, "doc_id": "v2017", "doc_sha256": "abc123"},
                              {"n": 2, "doc_id": "v2023", "doc_sha256": "old-hash"},
                              {"n": 3, "doc_id": "gone"}]}
    found = {c["n"]: c["status"] for c in check_export(exported, LAW, {"v2017": "abc123", "v2023": "new-hash"},
                                                       now="2025-05-01")}
    assert found == {1: "outdated", 2: "changed", 3: "missing"}
