"""The one writer of an index directory: brings the index in step with the corpus, document by document.

Only documents that are new or changed (text or metadata, detected from a file's size and mtime before its
text is read again) are chunked and embedded; they go into one new segment. Removed and replaced documents'
rows become dead; segments are merged when there are too many or too many dead rows. The manifest is
replaced last, atomically: that is the commit. Chroma is kept in step around the commit, and a marker file
says when it may differ, so the next writer reconciles it after a crash."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.chunking.clauses import chunk_document, quote_units
from assistant.config import Settings
from assistant.corpus.manifest import DocEntry, corpus_hash, document_digest, text_sha256
from assistant.errors import IndexLockedError, StorageError
from assistant.files import atomic_write, ensure_free, exclusive, storage_problem
from assistant.index.cache import EmbeddingCache
from assistant.index.lexical import TermRows, concat
from assistant.index.records import SCHEMA_VERSION, ChunkRecord, fingerprint, upgradable
from assistant.index.segments import (PENDING, SEGMENTS, collect_garbage, read_manifest, read_segment,
                                      segment_ids, take_sentences, write_manifest, write_segment)
from assistant.index.snapshot import check_manifest
from assistant.index.vectors import ChromaVectors

log = logging.getLogger("assistant.index")
LOCK_WAIT_SECONDS = 15
_MAX_SEGMENTS = 12  # merge beyond this many segments …
_MAX_DEAD_SHARE = 0.3  # … or when this share of the stored rows is dead
SEED_CACHE = "embedding-cache.sqlite"  # in the corpus directory: vectors shipped with the corpus


@dataclass(frozen=True)
class BuildReport:
    chunks: int  # live rows after the update
    embedded: int  # texts that had to be embedded (the rest came from the cache)
    added: int  # clauses new to the index (a new version's unchanged clauses are not counted)
    removed: int  # clauses that left the index
    seconds: float
    documents: int = 0  # documents chunked in this update


@dataclass(frozen=True)
class Rows:
    """Rows on their way into a segment: records, clause vectors, term counts, sentence vectors."""

    records: list[ChunkRecord]
    vectors: np.ndarray
    terms: TermRows
    sentence_vectors: np.ndarray
    sentence_ptr: np.ndarray

    def write(self, index_dir: Path, name: str) -> None:
        write_segment(index_dir, name, self.records, self.vectors, self.terms, self.sentence_vectors,
                      self.sentence_ptr)

    @classmethod
    def take(cls, segment, live: np.ndarray) -> "Rows":
        sentences, ptr = take_sentences(segment, live)
        return cls([segment.records[i] for i in live.tolist()], np.asarray(segment.vectors[live]),
                   segment.terms.take(live), sentences, ptr)

    @classmethod
    def join(cls, parts: list["Rows"]) -> "Rows":
        offsets = np.cumsum([0] + [int(p.sentence_ptr[-1]) for p in parts[:-1]]) if parts else []
        ptr = np.concatenate([[0]] + [p.sentence_ptr[1:] + off for p, off in zip(parts, offsets)]).astype(np.int64)
        nonempty = [p for p in parts if len(p.records)]
        width = nonempty[0].vectors.shape[1] if nonempty else 0
        return cls([r for p in parts for r in p.records],
                   np.concatenate([p.vectors for p in nonempty]) if nonempty else np.zeros((0, width)),
                   concat([p.terms for p in parts]),
                   np.concatenate([p.sentence_vectors for p in parts]) if parts else np.zeros((0, width)),
                   ptr)


@dataclass(frozen=True)
class _Doc:
    entry: DocEntry
    text_sha256: str
    stat: tuple[int, int]
    digest: str


def _vector_meta(record: ChunkRecord) -> dict:
    """What Chroma can filter on; it stores no None, so a place the table lacks has no level or code."""
    meta = {"doc_id": record.doc_id, "city": record.city, "status": record.status}
    meta.update({k: v for k, v in (("level", record.level), ("place_code", record.place_code)) if v})
    return meta


class IndexWriter:
    def __init__(self, settings: Settings, embedder):
        self.settings = settings
        self.embedder = embedder
        self.dir = Path(settings.index_dir)
        self.vectors = ChromaVectors(settings, embedder.model_id)

    # ------------------------------------------------------------ state
    def state(self, entries: list[DocEntry]) -> str:
        """'missing', 'stale' (the corpus changed, or a write was interrupted) or 'ok'.

        Raises IndexMismatchError when the index was built with other settings."""
        manifest = read_manifest(self.dir)
        if manifest is None or manifest.get("schema") != SCHEMA_VERSION or self._upgrade(manifest):
            return "missing"
        check_manifest(manifest, self.settings, self.embedder.model_id)
        if (self.dir / PENDING).exists():
            return "stale"
        docs = self._identify(entries, manifest)
        return "ok" if corpus_hash({d: x.digest for d, x in docs.items()}) == manifest.get("corpus_hash") else "stale"

    def _upgrade(self, manifest: dict) -> bool:
        return upgradable(manifest.get("settings", {}), fingerprint(self.settings, self.embedder.model_id))

    def generation(self) -> int | None:
        manifest = read_manifest(self.dir)
        return int(manifest.get("generation", 0)) if manifest else None

    def pending(self) -> bool:
        return (self.dir / PENDING).exists()

    def committed_counts(self) -> dict[str, int] | None:
        """Clauses per document in the committed index (None when there is none); reads one file, writes nothing."""
        manifest = read_manifest(self.dir)
        if manifest is None or manifest.get("schema") != SCHEMA_VERSION:
            return None
        return {d: int(e.get("chunks", 0)) for d, e in manifest.get("documents", {}).items()}

    @contextlib.contextmanager
    def write_lock(self, wait_seconds: float = LOCK_WAIT_SECONDS):
        """One writer per index directory: concurrent Chroma writers corrupt it silently."""
        busy = f"索引目录 {self.dir} 正被另一个进程写入，等待 {wait_seconds:.0f} 秒后仍未释放，请稍后再试。"
        with contextlib.ExitStack() as stack:
            try:
                self.dir.mkdir(parents=True, exist_ok=True)
                stack.enter_context(exclusive(self.dir / ".write.lock", wait_seconds, lambda: IndexLockedError(busy)))
            except OSError as exc:
                raise StorageError(f"无法写入索引目录 {self.dir}（{storage_problem(exc) or exc.strerror}），"
                                   "索引保持不变；只读的索引仍可用于提问。") from exc
            yield

    # ------------------------------------------------------------ update
    def update(self, entries: list[DocEntry], rebuild: bool = False, progress=None) -> BuildReport:
        started = time.perf_counter()
        with self.write_lock():
            manifest = read_manifest(self.dir)
            if manifest is not None and manifest.get("schema") == SCHEMA_VERSION and not rebuild \
                    and not self._upgrade(manifest):
                check_manifest(manifest, self.settings, self.embedder.model_id)
                self._reconcile(manifest)
            else:
                manifest = self._start_over()
            docs = self._identify(entries, manifest)
            known = manifest["documents"]
            changed = [d for d, x in docs.items() if known.get(d, {}).get("digest") != x.digest]
            removed = [d for d in known if d not in docs]
            if not changed and not removed:
                return BuildReport(sum(int(e["chunks"]) for e in known.values()), 0, 0, 0,
                                   time.perf_counter() - started)
            return self._apply(manifest, docs, changed, removed, progress, started)

    def _apply(self, manifest: dict, docs: dict[str, _Doc], changed: list[str], removed: list[str],
               progress, started: float) -> BuildReport:
        known = manifest["documents"]
        generation = int(manifest.get("generation", 0)) + 1
        name = f"g{generation:06d}-{secrets.token_hex(3)}"
        records, texts = self._chunk([docs[d] for d in changed])
        self._check_space(manifest, records)  # a full disk is found here, before anything is written
        # slow, and writes nothing but the embedding cache
        rows, embedded = self._rows(records, texts, progress)
        self._mark_pending()  # from here until the commit, Chroma may get ahead of the manifest
        touched = [False]
        try:
            old_ids = self._old_ids(manifest, [*changed, *removed])
            segments = list(manifest["segments"])
            if records:
                rows.write(self.dir, name)
                segments.append(name)
            self._store_vectors(manifest, records, rows.vectors, touched)
            documents = {d: e for d, e in known.items() if d in docs and d not in changed}
            counts: dict[str, int] = {}
            for r in records:
                counts[r.doc_id] = counts.get(r.doc_id, 0) + 1
            for d in changed:
                x = docs[d]
                documents[d] = {"segment": name, "digest": x.digest, "text_sha256": x.text_sha256,
                                "stat": list(x.stat), "file": str(x.entry.path), "chunks": counts.get(d, 0),
                                "meta": x.entry.meta()}
            new_manifest = self._maybe_merge(self._manifest(generation, segments, documents, docs))
            write_manifest(self.dir, new_manifest)  # the commit
        except BaseException:
            self._undo(touched[0])
            raise
        live_ids, previous = {r.chunk_id for r in records}, set(old_ids)
        stale = [i for i in old_ids if i not in live_ids]
        self._finish(new_manifest, stale)
        return BuildReport(sum(int(e["chunks"]) for e in new_manifest["documents"].values()), embedded,
                           len(live_ids - previous), len(stale), time.perf_counter() - started, len(changed))

    def _check_space(self, manifest: dict, records: list[ChunkRecord]) -> None:
        """Refuse the update before it writes when the index's disk could not hold it: the cached vectors, the
        segment (vectors, texts, terms), Chroma's copy (vectors, metadata, its HNSW files), the manifest twice,
        and a merge. Vectors are counted at 1,024 dimensions, more than any embedder here has."""
        text = sum(len(r.text.encode("utf-8")) + len(r.clause.encode("utf-8")) + 300 for r in records)
        needed = len(records) * 1024 * 4 * 4 + text * 3 + len(records) * 2048
        if self.settings.sentence_vectors:  # sentence vectors live in the cache and the segment only
            needed += sum(len(quote_units(r.text)) for r in records) * 1024 * 4 * 2
        needed += 2 * len(json.dumps(manifest, ensure_ascii=False).encode("utf-8")) + 64 * 1024
        if len(manifest.get("segments", [])) >= _MAX_SEGMENTS:
            needed += sum(f.stat().st_size for f in (self.dir / SEGMENTS).rglob("*") if f.is_file())
        try:
            ensure_free(self.dir, needed, self.settings.min_free_mb, "索引目录")
        except StorageError as exc:
            raise StorageError(str(exc).replace("未做任何更改", "索引未做任何更改")) from exc

    def _undo(self, chroma_touched: bool) -> None:
        """A write that failed before its commit leaves no trace. First what needs no free space: the new
        segment and temporary files go (the committed manifest was never replaced). Chroma is opened only if
        this write changed it, and put back to the committed rows; only then does the marker go. If Chroma
        cannot be put back (a full disk), the marker stays and the next writer finishes the job: readers use
        the committed segments meanwhile, never Chroma rows they do not know."""
        committed = read_manifest(self.dir)  # what readers use: Chroma must match it, not the attempt
        usable = committed is not None and committed.get("schema") == SCHEMA_VERSION
        with contextlib.suppress(OSError):
            if usable:
                collect_garbage(self.dir, committed)
            else:
                shutil.rmtree(self.dir / SEGMENTS, ignore_errors=True)
            for tmp in (self.dir / SEGMENTS).glob("*.tmp"):
                shutil.rmtree(tmp, ignore_errors=True)
        if chroma_touched:
            try:
                if usable:
                    self._sync_chroma(committed)
                else:
                    self.vectors.drop()
            except Exception:  # noqa: BLE001 — the marker stays; the next writer reconciles
                log.warning("索引写入失败后未能恢复向量库，已保留 %s 标记，下次写入时自动修复", PENDING)
                return
        (self.dir / PENDING).unlink(missing_ok=True)

    def _manifest(self, generation: int, segments: list[str], documents: dict, docs: dict[str, _Doc]) -> dict:
        order = {d: i for i, d in enumerate(docs)}  # the corpus manifest's order
        documents = dict(sorted(documents.items(), key=lambda item: order.get(item[0], len(order))))
        used = {e["segment"] for e in documents.values()}
        return {"schema": SCHEMA_VERSION, "settings": fingerprint(self.settings, self.embedder.model_id),
                "generation": generation,
                "corpus_hash": corpus_hash({d: e["digest"] for d, e in documents.items()}),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "chroma": self.vectors.location,
                "segments": [s for s in segments if s in used], "documents": documents}

    # ------------------------------------------------------------ pieces
    def _identify(self, entries: list[DocEntry], manifest: dict) -> dict[str, _Doc]:
        """Each document's digest; a text is read again only when its file's size or mtime changed."""
        known = manifest.get("documents", {}) if manifest else {}
        out: dict[str, _Doc] = {}
        for entry in entries:
            try:
                st = os.stat(entry.path)
                stat = (st.st_size, st.st_mtime_ns)
            except OSError:
                stat = (-1, -1)
            old = known.get(entry.doc_id, {})
            if old.get("stat") == list(stat) and old.get("file") == str(entry.path) and old.get("text_sha256"):
                sha = old["text_sha256"]
            else:
                sha = text_sha256(entry.read_text())
            out[entry.doc_id] = _Doc(entry, sha, stat, document_digest(entry.meta(), sha))
        return out

    def _chunk(self, docs: list[_Doc]) -> tuple[list[ChunkRecord], list[str]]:
        """The documents' rows and the texts their vectors are made from."""
        records: list[ChunkRecord] = []
        texts: list[str] = []
        with_document = self.settings.embed_context == "document"
        for x in docs:
            meta = x.entry.meta()
            short = (meta.get("short_title") or meta["title"]) if with_document else None
            for chunk in chunk_document(x.entry.doc_id, x.entry.read_text(), self.settings.max_chunk_tokens):
                record = ChunkRecord.of(chunk, meta)
                records.append(record)
                texts.append(record.embedding_text(short))
        return records, texts

    def _rows(self, records: list[ChunkRecord], texts: list[str], progress) -> tuple["Rows", int]:
        """Embed the rows' clauses and the clauses' sentences (cache first); slow, and writes nothing but the
        embedding cache."""
        units = [quote_units(r.text) if self.settings.sentence_vectors else [] for r in records]
        sentences = [u for row in units for u in row]
        cache = EmbeddingCache(Path(self.settings.cache_dir) / "embeddings.sqlite", seeds=self._seed_caches())
        try:
            vectors, embedded = cache.embed(self.embedder, texts + sentences, progress=progress)
        finally:
            cache.close()
        width = vectors.shape[1] if vectors.ndim == 2 else 0
        clause_vectors = vectors[:len(texts)] if len(texts) else np.zeros((0, width), dtype=np.float32)
        sentence_vectors = vectors[len(texts):] if sentences else np.zeros((0, width), dtype=np.float32)
        ptr = np.concatenate([[0], np.cumsum([len(u) for u in units])]).astype(np.int64)
        return Rows(records, clause_vectors, TermRows.build([r.terms() for r in records]), sentence_vectors,
                    ptr), embedded

    def write_seed_cache(self, entries: list[DocEntry]) -> tuple[Path, int]:
        """Write the vectors of these documents' texts (clauses and sentences) into the corpus directory, so a
        fresh machine's first build embeds nothing (the bundled corpus ships one). Returns (path, vectors)."""
        rows, _ = self._rows(*self._chunk([_Doc(e, "", (0, 0), "") for e in entries]), None)
        short = {e.doc_id: (e.short_title or e.title) for e in entries}
        with_document = self.settings.embed_context == "document"
        texts = [r.embedding_text(short[r.doc_id] if with_document else None) for r in rows.records]
        texts += [u for r in rows.records for u in quote_units(r.text)] if self.settings.sentence_vectors else []
        target = Path(self.settings.corpus_dir) / SEED_CACHE
        tmp = target.with_name(target.name + ".tmp")
        tmp.unlink(missing_ok=True)
        source = EmbeddingCache(Path(self.settings.cache_dir) / "embeddings.sqlite")
        seed = EmbeddingCache(tmp)
        try:
            vectors, _ = source.embed(self.embedder, texts)
            seed.put(self.embedder.model_id, texts, vectors)
            count = len(set(texts))
        finally:
            source.close()
            seed.close()
        os.replace(tmp, target)
        return target, count

    def _seed_caches(self) -> list[Path]:
        """A corpus may ship the vectors of its own texts (the bundled one does), so a fresh machine's first
        build embeds nothing it already has."""
        seed = Path(self.settings.corpus_dir) / SEED_CACHE
        return [seed] if seed.is_file() else []

    def _store_vectors(self, manifest: dict, records: list[ChunkRecord], vectors: np.ndarray,
                       touched: list[bool]) -> None:
        """Put the new rows into Chroma; first make sure it holds exactly the committed rows (a database that
        was deleted or replaced by an empty one is filled again from the segments)."""
        if not records:
            return
        live = sum(int(e.get("chunks", 0)) for e in manifest.get("documents", {}).values())
        if manifest.get("segments") and self.vectors.count() != live:
            touched[0] = True
            self._sync_chroma(manifest)
        touched[0] = True
        self._upsert(records, vectors)

    def _upsert(self, records: list[ChunkRecord], vectors: np.ndarray) -> None:
        if records:
            self.vectors.upsert([r.chunk_id for r in records], vectors, [_vector_meta(r) for r in records])

    def _old_ids(self, manifest: dict, doc_ids: list[str]) -> list[str]:
        """Chunk ids of these documents' current rows (read from their segments' id lists)."""
        wanted = set(doc_ids)
        by_segment: dict[str, set[str]] = {}
        for d in wanted:
            entry = manifest["documents"].get(d)
            if entry:
                by_segment.setdefault(entry["segment"], set()).add(d)
        out: list[str] = []
        for name, owners in by_segment.items():
            out.extend(cid for cid, doc in segment_ids(self.dir, name) if doc in owners)
        return out

    def _maybe_merge(self, manifest: dict) -> dict:
        """Merge every live row into one segment when there are too many segments or dead rows (no
        re-chunking, no re-embedding: rows, vectors and terms are copied)."""
        names = manifest["segments"]
        live_rows = sum(int(e["chunks"]) for e in manifest["documents"].values())
        stored = sum(len(segment_ids(self.dir, n)) for n in names)
        if len(names) <= _MAX_SEGMENTS and (not stored or 1 - live_rows / stored <= _MAX_DEAD_SHARE):
            return manifest
        documents = manifest["documents"]
        parts = []
        for name in names:
            segment = read_segment(self.dir, name)
            live = np.asarray([i for i, r in enumerate(segment.records)
                               if documents.get(r.doc_id, {}).get("segment") == name], dtype=np.int64)
            parts.append(Rows.take(segment, live))
        merged = f"g{int(manifest['generation']):06d}-{secrets.token_hex(3)}m"
        rows = Rows.join(parts)
        records = rows.records
        rows.write(self.dir, merged)
        for entry in documents.values():
            entry["segment"] = merged
        return {**manifest, "segments": [merged] if records else []}

    # ------------------------------------------------------------ consistency with Chroma
    def _mark_pending(self) -> None:
        atomic_write(self.dir / PENDING, str(os.getpid()))

    def _finish(self, manifest: dict, stale_ids: list[str]) -> None:
        """After the commit: drop rows that stopped being live from Chroma, then the marker and old segments.
        Nothing here may fail the update, which is committed: a failure leaves the marker for the next writer."""
        try:
            self.vectors.delete(stale_ids)
            (self.dir / PENDING).unlink(missing_ok=True)
        except Exception:  # noqa: BLE001 — reconciled by the next writer (see _reconcile)
            return
        collect_garbage(self.dir, manifest)

    def _reconcile(self, manifest: dict) -> None:
        """After an interrupted write: make Chroma hold exactly the live rows, and drop unnamed segments."""
        if not (self.dir / PENDING).exists():
            return
        self._sync_chroma(manifest)
        (self.dir / PENDING).unlink(missing_ok=True)
        collect_garbage(self.dir, manifest)

    def _sync_chroma(self, manifest: dict) -> None:
        """Make Chroma hold exactly the rows `manifest` names as live (their vectors come from the segments)."""
        live: dict[str, tuple[str, int]] = {}
        for name in manifest["segments"]:
            segment = read_segment(self.dir, name)
            for i, r in enumerate(segment.records):
                if manifest["documents"].get(r.doc_id, {}).get("segment") == name:
                    live[r.chunk_id] = (name, i)
        stored = self.vectors.ids()
        self.vectors.delete(sorted(stored - set(live)))
        missing = [cid for cid in live if cid not in stored]
        for name in {live[c][0] for c in missing}:
            segment = read_segment(self.dir, name)
            rows = [live[c][1] for c in missing if live[c][0] == name]
            self._upsert([segment.records[i] for i in rows], np.asarray(segment.vectors[rows]))

    def _start_over(self) -> dict:
        """An empty index to build into (rebuild, no index yet, or one in an older format). The committed
        manifest and its segments stay until the new generation is committed, so readers keep answering; the
        embedding cache stays too, so nothing cached is embedded again."""
        self._mark_pending()
        self.vectors.drop()
        for name in ("bm25", "chunks.jsonl", "docs.json", "BUILDING"):  # files of the first index format
            path = self.dir / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        committed = read_manifest(self.dir)
        generation = int(committed.get("generation", 0)) if committed else 0
        return {"schema": SCHEMA_VERSION, "generation": generation, "segments": [], "documents": {}}
