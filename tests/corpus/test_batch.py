"""Batch import through the library with the index update stubbed out: each file its own transaction, a bad
or placeless file listed and the rest imported, overrides for all files, folders searched, nothing guessed."""
from __future__ import annotations

import json

import pytest

from assistant.config import Settings
from assistant.corpus.batch import expand, ingest_many
from assistant.corpus.library import Library
from assistant.errors import IngestError
from tests.conftest import LAWS
from tests.support.library import NoIndex, no_index
from tests.support.samples import XIANGTAN, ZHUZHOU

pytestmark = pytest.mark.unit


def _library(corpus_dir, tmp_path) -> Library:
    return Library(Settings.from_env(corpus_dir=corpus_dir, index_dir=tmp_path / "index"))


def _titles(corpus_dir) -> dict[str, dict]:
    manifest = json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    return {e["title"]: e for e in manifest["documents"]}


def _law(name: str):
    found = sorted(LAWS.glob(f"DLC/*/*/*/{name}"))
    assert found, f"{name} not found under {LAWS}"
    return found[0]


def test_a_folder_is_imported_file_by_file_and_bad_files_are_listed(corpus_copy, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "株洲.txt").write_text(ZHUZHOU, encoding="utf-8")
    (folder / "sub" / "学前教育.md").write_text(_law("青岛市学前教育条例(2018-11-30).md").read_text("utf-8"), "utf-8")
    (folder / "无地方.txt").write_text("关于加强学校管理的通知\n一、各校要加强安全管理。\n", encoding="utf-8")
    (folder / "坏文件.pdf").write_text("not a pdf", encoding="utf-8")
    (folder / ".hidden.txt").write_text(ZHUZHOU, encoding="utf-8")
    (folder / "notes.csv").write_text("a,b", encoding="utf-8")
    before = _titles(corpus_copy)

    report = ingest_many(_library(corpus_copy, tmp_path), [folder], no_index)

    outcomes = {r.path.rsplit("/", 1)[-1]: r.outcome for r in report.results}
    assert outcomes == {"株洲.txt": "imported", "学前教育.md": "imported", "无地方.txt": "needs_field",
                        "坏文件.pdf": "failed"}
    assert report.counts() == {"imported": 2, "unchanged": 0, "needs_field": 1, "failed": 1} and not report.ok
    placeless = next(r for r in report.results if r.outcome == "needs_field")
    assert placeless.missing == ("city",) and "--city" in placeless.reason
    assert "PDF" in next(r for r in report.results if r.outcome == "failed").reason
    after = _titles(corpus_copy)
    assert set(after) - set(before) == {"株洲市教育局关于推进义务教育集团化办学的实施方案", "青岛市学前教育条例"}
    qingdao = after["青岛市学前教育条例"]
    assert (qingdao["city"], qingdao["level"], qingdao["place_code"]) == ("青岛市", "city", "370200")
    assert qingdao["history"][0] == "2013-04-25 通过" and qingdao["effective_date"] == "2013-06-02"

    again = ingest_many(_library(corpus_copy, tmp_path), [folder], no_index)
    assert [r.outcome for r in again.results if r.outcome in ("imported", "unchanged")] == ["unchanged"] * 2
    assert _titles(corpus_copy) == after


def test_the_city_given_applies_to_every_file_and_per_document_values_are_refused(corpus_copy, tmp_path):
    files = []
    for name, text in (("a.txt", "关于加强学校管理的通知\n一、各校要加强安全管理。\n"), ("b.txt", XIANGTAN)):
        files.append(tmp_path / name)
        files[-1].write_text(text, encoding="utf-8")
    library = _library(corpus_copy, tmp_path)
    before = (corpus_copy / "manifest.json").read_bytes()
    with pytest.raises(IngestError, match="只能用于单个文件"):
        ingest_many(library, files, no_index, {"title": "同一个标题"})
    with pytest.raises(IngestError, match="日期无效"):
        ingest_many(library, files, no_index, {"city": "长沙市", "effective_date": "明年"})
    assert (corpus_copy / "manifest.json").read_bytes() == before
    report = ingest_many(library, files, no_index, {"city": "郑州市中原区"})
    assert [r.outcome for r in report.results] == ["imported", "imported"] and report.ok
    cities = {(e["city"], e["level"], e["place_code"]) for e in _titles(corpus_copy).values() if e.get("sha256")}
    assert cities == {("郑州市中原区", "district", "410102")}


def test_a_failing_index_update_rolls_back_that_file_only(corpus_copy, tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(ZHUZHOU, encoding="utf-8")
    second.write_text(XIANGTAN, encoding="utf-8")
    calls = []

    def flaky(documents, progress):
        calls.append(len(documents))
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return NoIndex()

    report = ingest_many(_library(corpus_copy, tmp_path), [first, second], flaky)
    assert [r.outcome for r in report.results] == ["failed", "imported"]
    assert "磁盘空间不足" in report.results[0].reason
    titles = _titles(corpus_copy)
    assert "湘潭市教育局关于深化集团化办学改革的指导意见（征求意见稿）" in titles
    assert "株洲市教育局关于推进义务教育集团化办学的实施方案" not in titles


def test_expand_reports_missing_paths_and_empty_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    found = dict(expand([tmp_path / "empty", tmp_path / "missing.pdf"]))
    assert "没有可导入的文件" in found[str(tmp_path / "empty")]
    assert found[str(tmp_path / "missing.pdf")] is None  # fails on its own when read, with its reason


def test_uploads_as_bytes_with_their_names(corpus_copy, tmp_path):
    uploads = [(ZHUZHOU.encode("utf-8"), "株洲.txt"), (b"", "empty.pdf")]
    report = ingest_many(_library(corpus_copy, tmp_path), uploads, no_index)
    assert [(r.path, r.outcome) for r in report.results] == [("株洲.txt", "imported"), ("empty.pdf", "failed")]
    assert "为空" in report.results[1].reason
