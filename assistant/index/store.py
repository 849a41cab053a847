"""The index under `index/`: Chroma vectors (on disk, or a Chroma server), a BM25 index over jieba
terms, the chunk table, and a manifest recording what the index was built with."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from assistant import config  # noqa: F401  (telemetry off before chromadb is imported)
from assistant.chunking.clauses import chunk_document
from assistant.config import Settings
from assistant.corpus.manifest import corpus_hash
from assistant.index.embedders import EmbeddingCache
from assistant.errors import AssistantError, IndexChangedError, IndexLockedError, IndexMismatchError
from assistant.files import exclusive
from assistant.domain.values import PATH_SEPARATOR, Chunk, PolicyDoc
from assistant.domain.segment import search_terms

SCHEMA_VERSION = 1
CHUNKER_VERSION = 1
COLLECTION = "policy_clauses"
_LOCK_WAIT_SECONDS = 15
_EXACT_LIMIT = 2000  # filtered searches over at most this many clauses are scored exactly (see _exact_search)
_DEFAULTS = {"embed_context": "document"}  # fingerprint entries recorded only when not the default


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk joined with its document's metadata: one row of the index's chunk table."""

    chunk_id: str
    doc_id: str
    city: str
    title: str
    doc_number: str | None
    status: str
    clause: str
    text: str
    ordinal: int
    part: int
    parts: int

    @classmethod
    def of(cls, chunk: Chunk, doc: PolicyDoc) -> "ChunkRecord":
        return cls(chunk.chunk_id, doc.doc_id, doc.city, doc.title, doc.doc_number, doc.status,
                   chunk.clause, chunk.text, chunk.ordinal, chunk.part, chunk.parts)

    def embedding_text(self, short_title: str | None) -> str:
        # The heading path and the document travel with the clause, as RAGFlow's laws splitter does.
        # Without a title (embed_context="clause") the same clause in many cities' documents is embedded once.
        if short_title is None:
            return f"{self.clause}\n{self.text}"
        return f"{self.city} {short_title} {self.clause}\n{self.text}"

    def terms(self) -> tuple[str, ...]:
        return search_terms(f"{self.clause.replace(PATH_SEPARATOR, ' ')} {self.text}")


@dataclass(frozen=True)
class BuildReport:
    chunks: int
    embedded: int
    added: int
    removed: int
    seconds: float


def settings_fingerprint(settings: Settings, embedder_id: str) -> dict:
    found = {"embedder": embedder_id, "max_chunk_tokens": settings.max_chunk_tokens,
             "chunker_version": CHUNKER_VERSION, "schema": SCHEMA_VERSION}
    if settings.embed_context != "document":  # recorded only when not the default, so older indexes stay valid
        found["embed_context"] = settings.embed_context
    return found


class IndexStore:
    def __init__(self, settings: Settings, embedder):
        self.settings = settings
        self.embedder = embedder
        self.dir = settings.index_dir
        self.records: list[ChunkRecord] = []
        self.docs: dict[str, dict] = {}
        self._bm25 = None
        self._collection = None
        self._city_of = np.zeros(0, dtype=np.int32)
        self._row_of: dict[str, int] = {}
        self.cities: tuple[str, ...] = ()

    # ------------------------------------------------------------ paths and state
    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    @property
    def _building_marker(self) -> Path:
        return self.dir / "BUILDING"

    def building(self) -> bool:
        """True while a build (here or in another process) is under way or was interrupted."""
        return self._building_marker.exists()

    def read_manifest(self) -> dict | None:
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def state(self, docs: list[PolicyDoc]) -> str:
        """'missing', 'incomplete' (a build was interrupted), 'stale' (corpus changed) or 'ok'.

        Raises IndexMismatchError when the index was built with other settings."""
        manifest = self.read_manifest()
        if manifest is None:
            return "missing"
        self.check_settings(manifest)
        if self._building_marker.exists():
            return "incomplete"
        return "ok" if manifest.get("corpus_hash") == corpus_hash(docs) else "stale"

    def check_settings(self, manifest: dict) -> None:
        expected = settings_fingerprint(self.settings, self.embedder.model_id)
        found = manifest.get("settings", {})
        if found != expected:
            keys = dict.fromkeys([*expected, *found])
            diff = [f"{k}: 索引为 {found.get(k, _DEFAULTS.get(k))}，当前为 {expected.get(k, _DEFAULTS.get(k))}"
                    for k in keys if found.get(k) != expected.get(k)]
            raise IndexMismatchError(
                "索引的构建设置与当前配置不一致（" + "；".join(diff) +
                "）。请运行 policy-assistant index build --rebuild 重建索引。")

    def chunk_counts(self) -> dict[str, int]:
        """Chunks per document in the built index, read without loading the index."""
        counts: dict[str, int] = {}
        try:
            with open(self.dir / "chunks.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        doc_id = json.loads(line)["doc_id"]
                        counts[doc_id] = counts.get(doc_id, 0) + 1
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass
        return counts

    # ------------------------------------------------------------ locking
    @contextlib.contextmanager
    def write_lock(self, wait_seconds: float = _LOCK_WAIT_SECONDS):
        """One writer per index directory: concurrent Chroma writers corrupt it silently."""
        self.dir.mkdir(parents=True, exist_ok=True)
        busy = f"索引目录 {self.dir} 正被另一个进程写入，等待 {wait_seconds:.0f} 秒后仍未释放，请稍后再试。"
        with exclusive(self.dir / ".write.lock", wait_seconds, lambda: IndexLockedError(busy)):
            yield

    # ------------------------------------------------------------ chroma
    def _client(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.settings.chroma_host:
            return chromadb.HttpClient(host=self.settings.chroma_host, port=self.settings.chroma_port,
                                       settings=chroma_settings)
        return chromadb.PersistentClient(path=str(self.dir / "chroma"), settings=chroma_settings)

    def _get_collection(self, create: bool):
        client = self._client()
        if create:
            # embedding_function=None: vectors always come from our embedder, never Chroma's default.
            return client.get_or_create_collection(
                COLLECTION, embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedder": self.embedder.model_id})
        return client.get_collection(COLLECTION, embedding_function=None)

    # ------------------------------------------------------------ build
    def build(self, docs: list[PolicyDoc], rebuild: bool = False, progress=None) -> BuildReport:
        started = time.perf_counter()
        with self.write_lock():
            self.dir.mkdir(parents=True, exist_ok=True)
            if not rebuild:
                manifest = self.read_manifest()
                if manifest is not None:
                    self.check_settings(manifest)
            self._building_marker.write_text(str(os.getpid()))
            if rebuild:
                self._drop_all()

            by_id = {d.doc_id: d for d in docs}
            records = [ChunkRecord.of(c, d) for d in docs
                       for c in chunk_document(d.doc_id, d.text, self.settings.max_chunk_tokens)]
            with_document = self.settings.embed_context == "document"
            texts = [r.embedding_text(by_id[r.doc_id].short_title or r.title if with_document else None)
                     for r in records]
            cache = EmbeddingCache(self.settings.cache_dir / "embeddings.sqlite")
            try:
                vectors, embedded = cache.embed(self.embedder, texts, progress=progress)
            finally:
                cache.close()

            collection = self._get_collection(create=True)
            # A chunk's id depends on its document and text only; its vector also depends on the
            # document's city and short title, and its filter fields on city and status. The digest
            # of the embedded text in the metadata lets a metadata-only change (a corrected city)
            # rewrite the affected rows instead of leaving stale vectors and filters behind.
            metadatas = [{"doc_id": r.doc_id, "city": r.city, "status": r.status,
                          "digest": hashlib.sha256(t.encode("utf-8")).hexdigest()[:16]}
                         for r, t in zip(records, texts)]
            current = collection.get(include=["metadatas"])
            existing = dict(zip(current["ids"], current["metadatas"]))
            wanted = {r.chunk_id for r in records}
            stale = sorted(set(existing) - wanted)
            for i in range(0, len(stale), 1000):
                collection.delete(ids=stale[i:i + 1000])
            new_rows = [i for i, r in enumerate(records) if existing.get(r.chunk_id) != metadatas[i]]
            for i in range(0, len(new_rows), 1000):
                rows = new_rows[i:i + 1000]
                # No documents: the texts live in chunks.jsonl, and Chroma's full-text index of documents
                # nearly doubled ingest time and index size at scale.
                collection.upsert(
                    ids=[records[j].chunk_id for j in rows],
                    embeddings=vectors[rows],
                    metadatas=[metadatas[j] for j in rows])

            self._write_tables(records, docs)
            manifest = {
                "settings": settings_fingerprint(self.settings, self.embedder.model_id),
                "corpus_hash": corpus_hash(docs),
                "chunks": len(records),
                "documents": len(docs),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "chroma": f"http://{self.settings.chroma_host}:{self.settings.chroma_port}"
                if self.settings.chroma_host else "persistent",
            }
            _atomic_write(self.manifest_path, json.dumps(manifest, ensure_ascii=False, indent=2))
            self._building_marker.unlink(missing_ok=True)
        return BuildReport(len(records), embedded, len(new_rows), len(stale), time.perf_counter() - started)

    def _drop_all(self) -> None:
        """Remove everything but the embedding cache.

        The collection is dropped through Chroma itself: deleting its directory under a live client
        (Chroma caches one per path and process) would leave the client writing to unlinked files."""
        try:
            client = self._client()
            if COLLECTION in [c if isinstance(c, str) else c.name for c in client.list_collections()]:
                client.delete_collection(COLLECTION)
        except Exception:
            if self.settings.chroma_host:
                raise
            # unreadable (e.g. corrupted) local database: forget cached clients, start from nothing
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
            shutil.rmtree(self.dir / "chroma", ignore_errors=True)
        for name in ("bm25", "chunks.jsonl", "docs.json", "manifest.json"):
            path = self.dir / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def _write_tables(self, records: list[ChunkRecord], docs: list[PolicyDoc]) -> None:
        import bm25s

        lines = "\n".join(json.dumps(asdict(r), ensure_ascii=False) for r in records)
        _atomic_write(self.dir / "chunks.jsonl", lines + "\n")
        doc_meta = {d.doc_id: {"title": d.title, "short_title": d.short_title, "city": d.city,
                               "issuer": d.issuer, "doc_number": d.doc_number, "date": d.date,
                               "status": d.status, "interprets": d.interprets} for d in docs}
        _atomic_write(self.dir / "docs.json", json.dumps(doc_meta, ensure_ascii=False, indent=1))
        retriever = bm25s.BM25()
        retriever.index([list(r.terms()) or [""] for r in records], show_progress=False)
        tmp = self.dir / "bm25.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        retriever.save(str(tmp), show_progress=False)
        shutil.rmtree(self.dir / "bm25", ignore_errors=True)
        tmp.rename(self.dir / "bm25")

    # ------------------------------------------------------------ load and query
    def load(self) -> None:
        import bm25s

        manifest = self.read_manifest()
        if manifest is None:
            raise AssistantError("索引不存在，请先运行 policy-assistant index build")
        self.check_settings(manifest)
        with open(self.dir / "chunks.jsonl", encoding="utf-8") as fh:
            self.records = [ChunkRecord(**json.loads(line)) for line in fh if line.strip()]
        self.docs = json.loads((self.dir / "docs.json").read_text(encoding="utf-8"))
        self._bm25 = bm25s.BM25.load(str(self.dir / "bm25"), show_progress=False, verbosity=0)
        self._collection = self._get_collection(create=False)
        # small integer codes per row: a filter is an integer comparison, not string comparisons per row
        self._city_code = {c: i for i, c in enumerate(dict.fromkeys(r.city for r in self.records))}
        self._doc_code = {d: i for i, d in enumerate(dict.fromkeys(r.doc_id for r in self.records))}
        self._city_of = np.array([self._city_code[r.city] for r in self.records], dtype=np.int32)
        self._doc_of = np.array([self._doc_code[r.doc_id] for r in self.records], dtype=np.int32)
        self._row_of = {r.chunk_id: i for i, r in enumerate(self.records)}
        self._df = np.diff(self._bm25.scores["indptr"])  # CSC by term: column lengths are document frequencies
        self.cities = tuple(dict.fromkeys(d["city"] for d in self.docs.values()))

    def mask(self, cities=None, doc_ids=None) -> np.ndarray | None:
        if not cities and not doc_ids:
            return None
        keep = np.ones(len(self.records), dtype=bool)
        if cities:
            keep &= np.isin(self._city_of, [self._city_code.get(c, -1) for c in cities])
        if doc_ids:
            keep &= np.isin(self._doc_of, [self._doc_code.get(d, -1) for d in doc_ids])
        return keep

    def bm25_scores(self, terms: tuple[str, ...]) -> np.ndarray:
        known = [t for t in terms if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.records), dtype=np.float32)
        return self._bm25.get_scores(known)

    def dense_search(self, vector: np.ndarray, n: int, cities=None, doc_ids=None,
                     mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine similarity) best first, restricted by city/document filters (`mask`, if the caller
        has it already, is theirs)."""
        from chromadb.errors import NotFoundError

        try:
            return self._dense_search(vector, n, cities, doc_ids, mask)
        except NotFoundError as exc:  # a rebuild in another process dropped the collection we loaded
            raise IndexChangedError("索引已被另一个进程重建，请重新加载后再试。") from exc

    def _dense_search(self, vector, n, cities, doc_ids, mask) -> list[tuple[int, float]]:
        if cities or doc_ids:
            rows = np.flatnonzero(self.mask(cities, doc_ids) if mask is None else mask)
            if len(rows) <= _EXACT_LIMIT:
                return self._exact_search(vector, n, rows)
        clauses = []
        if cities:
            clauses.append({"city": {"$in": list(cities)}})
        if doc_ids:
            clauses.append({"doc_id": {"$in": list(doc_ids)}})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        n = max(1, min(n, len(self.records)))
        result = self._collection.query(query_embeddings=[vector.tolist()], n_results=n, where=where,
                                        include=["distances"])
        rows = []
        for cid, dist in zip(result["ids"][0], result["distances"][0]):
            row = self._row_of.get(cid)
            if row is not None:
                rows.append((row, 1.0 - float(dist)))
        return rows

    def _exact_search(self, vector: np.ndarray, n: int, rows: np.ndarray) -> list[tuple[int, float]]:
        """Cosine similarity of every filtered row, from its stored vector.

        Chroma's filtered HNSW search is approximate and slow when the filter is selective: at 175,000
        clauses a one-city query took 75-125 ms and shared only 43% of its top 30 with the exact top 30.
        Fetching a few hundred vectors by id takes ~5 ms, on disk or from a server."""
        if not len(rows):
            return []
        got = self._collection.get(ids=[self.records[i].chunk_id for i in rows], include=["embeddings"])
        found = [self._row_of[cid] for cid in got["ids"]]
        matrix = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(found), -1)
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(vector) or 1.0)
        scores = matrix @ vector.astype(np.float32) / np.where(norms > 0, norms, 1.0)
        top = np.argpartition(-scores, n)[:n] if len(scores) > n else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(found[i], float(scores[i])) for i in top]

    def document_frequency(self, variants: tuple[str, ...]) -> int:
        """How many chunks contain the most widespread of these equivalent terms."""
        ids = [self._bm25.vocab_dict[t] for t in variants if t in self._bm25.vocab_dict]
        return int(max(self._df[ids])) if ids else 0


def _atomic_write(path: Path, content: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
