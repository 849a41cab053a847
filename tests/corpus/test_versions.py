"""Versions in the corpus, with the index update stubbed out: real regulations in several dated versions (read
from ../shared/laws at test time, never copied) are recognised as versions of one document and kept in a
lineage; a final text supersedes its draft; bad lineage input is refused in Chinese with nothing changed."""
from __future__ import annotations

import hashlib
import json

import pytest

from assistant.config import Settings
from assistant.corpus.library import Library
from assistant.domain.versions import state, states
from assistant.errors import AssistantError, DocumentNotFoundError, IngestError
from tests.conftest import LAWS
from tests.support.library import no_index
from tests.support.versions import write_final

pytestmark = pytest.mark.unit

FUYI_2017 = "诉讼与非诉讼程序法/行政复议法(2017-09-01).md"
FUYI_2023 = "诉讼与非诉讼程序法/行政复议法(2023-09-01).md"
ROAD = ("行政法规/道路运输条例(2019-03-02).md", "行政法规/道路运输条例(2022-03-29).md",
        "行政法规/道路运输条例(2023-07-20).md")


def _library(corpus_dir, tmp_path) -> Library:
    return Library(Settings.from_env(corpus_dir=corpus_dir, index_dir=tmp_path / "index"))


def _law(name: str):
    path = LAWS / name
    assert path.is_file(), f"{name} not found under {LAWS}"
    return path


def _entries(corpus_dir) -> dict[str, dict]:
    manifest = json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    return {e["doc_id"]: e for e in manifest["documents"]}


def _digest(corpus_dir) -> str:
    """Every file of the corpus directory (the writers' lock file aside), so that "nothing changed" is checked
    byte for byte."""
    h = hashlib.sha256()
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file() and p.name != ".ingest.lock"):
        h.update(str(path.relative_to(corpus_dir)).encode() + path.read_bytes())
    return h.hexdigest()


def test_a_revised_law_is_a_new_version_and_the_old_one_is_kept_as_amended(corpus_copy, tmp_path):
    lib = _library(corpus_copy, tmp_path)
    old = lib.add(_law(FUYI_2017), no_index)
    new = lib.add(_law(FUYI_2023), no_index)

    assert (old.action, new.action) == ("added", "versioned")
    assert new.supersedes == old.doc_id
    entries = _entries(corpus_copy)
    assert entries[old.doc_id]["superseded_by"] == new.doc_id and entries[new.doc_id]["supersedes"] == old.doc_id
    assert (corpus_copy / entries[old.doc_id]["file"]).is_file()  # the old text is kept, not overwritten
    infos = {d.doc_id: d for d in lib.documents(None)}
    assert infos[old.doc_id].to_dict()["force_label"] == "已修正"
    assert infos[new.doc_id].to_dict()["force_label"] == "现行有效"
    # 2023 revision takes effect 2024-01-01: on 2023-10-01 the 2017 text was still the one in force
    docs = {d: {**e} for d, e in entries.items()}
    assert state(old.doc_id, docs, "2023-10-01") == "in_force"
    assert state(new.doc_id, docs, "2023-10-01") == "not_yet"
    assert state(old.doc_id, docs, "2024-01-01") == "amended"
    assert [v.doc_id for v in lib.versions(new.doc_id)] == [old.doc_id, new.doc_id]


def test_three_versions_imported_out_of_order_form_one_chain_in_date_order(corpus_copy, tmp_path):
    lib = _library(corpus_copy, tmp_path)
    middle = lib.add(_law(ROAD[1]), no_index)
    oldest = lib.add(_law(ROAD[0]), no_index)
    newest = lib.add(_law(ROAD[2]), no_index)

    assert oldest.action == "versioned" and oldest.superseded_by == middle.doc_id
    assert any("早于已有的" in w for w in oldest.warnings)
    assert newest.supersedes == middle.doc_id
    chain = [v.doc_id for v in lib.versions(middle.doc_id)]
    assert chain == [oldest.doc_id, middle.doc_id, newest.doc_id]
    forces = states(_entries(corpus_copy), "2025-01-01")
    assert [forces[d] for d in chain] == ["amended", "amended", "in_force"]


def test_removing_a_middle_version_links_its_neighbours(corpus_copy, tmp_path):
    lib = _library(corpus_copy, tmp_path)
    ids = [lib.add(_law(name), no_index).doc_id for name in ROAD]
    lib.remove(ids[1], no_index)
    entries = _entries(corpus_copy)
    assert entries[ids[0]]["superseded_by"] == ids[2] and entries[ids[2]]["supersedes"] == ids[0]


def test_a_final_text_supersedes_its_draft(corpus_copy, tmp_path):
    final = write_final(corpus_copy, tmp_path)
    lib = _library(corpus_copy, tmp_path)

    report = lib.add(final, no_index, overrides={"effective_date": "2023-03-01"})

    assert report.action == "versioned" and report.supersedes == "zhongyuan-jituan-draft"
    assert report.status == "official"
    infos = {d.doc_id: d.to_dict() for d in lib.documents(None)}
    assert infos["zhongyuan-jituan-draft"]["force_label"] == "征求意见稿（已定稿）"
    assert infos[report.doc_id]["force_label"] == "现行有效"
    assert {d.doc_id: d.force for d in lib.documents(None, "2022-06-01")}["zhongyuan-jituan-draft"] == "draft"


def test_supersedes_names_the_predecessor_explicitly(corpus_copy, tmp_path):
    lib = _library(corpus_copy, tmp_path)
    text = tmp_path / "长沙新方案.txt"
    text.write_text("长沙市集团化办学管理办法\n一、集团化学校合作时限一般为五年。\n", encoding="utf-8")
    report = lib.add(text, no_index, overrides={"city": "长沙市"}, supersedes_id="changsha-jituan-2020")
    assert report.action == "versioned" and report.supersedes == "changsha-jituan-2020"
    assert _entries(corpus_copy)["changsha-jituan-2020"]["superseded_by"] == report.doc_id


@pytest.mark.parametrize("case", ["missing", "taken", "self_cycle", "cycle"])
def test_bad_lineage_input_is_refused_with_nothing_changed(corpus_copy, tmp_path, case):
    lib = _library(corpus_copy, tmp_path)
    first = lib.add(_law(FUYI_2017), no_index).doc_id
    second = lib.add(_law(FUYI_2023), no_index).doc_id
    other = tmp_path / "其他.txt"
    other.write_text("中华人民共和国行政复议法释义\n一、行政复议机关应当依法办理行政复议案件。\n", encoding="utf-8")
    before = _digest(corpus_copy)

    with pytest.raises(AssistantError) as raised:
        if case == "missing":
            lib.add(other, no_index, overrides={"city": "全国"}, supersedes_id="no-such-doc")
        elif case == "taken":  # a second version claiming a predecessor that already has one
            lib.add(other, no_index, overrides={"city": "全国"}, supersedes_id=first)
        elif case == "self_cycle":
            lib.link(second, second, no_index)
        else:  # the older version made the successor of the newer one
            lib.link(first, second, no_index)

    message = str(raised.value)
    expected = {"missing": (DocumentNotFoundError, "要取代的文档不存在"),
                "taken": (IngestError, "一个版本只能有一个新版本"),
                "self_cycle": (IngestError, "不能取代它自己"),
                "cycle": (IngestError, "不能成环")}[case]
    assert isinstance(raised.value, expected[0]) and expected[1] in message
    assert _digest(corpus_copy) == before


def test_replace_and_supersedes_together_are_refused(corpus_copy, tmp_path):
    lib = _library(corpus_copy, tmp_path)
    before = _digest(corpus_copy)
    with pytest.raises(IngestError, match="不能同时使用"):
        lib.add(_law(FUYI_2017), no_index, replace_id="changsha-jituan-2020", supersedes_id="changsha-jituan-2020")
    assert _digest(corpus_copy) == before


def test_a_hand_edited_manifest_with_one_sided_links_is_refused(corpus_copy, tmp_path):
    manifest = json.loads((corpus_copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"][0]["superseded_by"] = manifest["documents"][1]["doc_id"]
    (corpus_copy / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(AssistantError, match="版本关系不一致"):
        _library(corpus_copy, tmp_path).documents_to_index()


def test_the_same_document_number_series_with_a_near_title_is_a_new_version(corpus_copy, tmp_path):
    lib = _library(corpus_copy, tmp_path)
    text = tmp_path / "长沙2023.txt"
    text.write_text("关于进一步深化基础教育集团化办学的指导意见\n长教通〔2023〕12号\n"
                    "一、集团化学校合作时限一般为五年。\n长沙市教育局\n2023年8月1日\n", encoding="utf-8")
    report = lib.add(text, no_index, overrides={"city": "长沙市"})
    assert report.action == "versioned" and report.supersedes == "changsha-jituan-2020"
    other = tmp_path / "长沙其他.txt"
    other.write_text("关于加强中小学课后服务管理的通知\n长教通〔2023〕30号\n一、各校应当开展课后服务。\n",
                     encoding="utf-8")
    assert lib.add(other, no_index, overrides={"city": "长沙市"}).action == "added"  # same series, another document
