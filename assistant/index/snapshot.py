"""A read-only view of one committed index generation: what a question is answered from.

Opened from the manifest and the segments it names; never changes afterwards, so a question keeps a
consistent view while a writer builds the next generation (which readers then open and swap in). The read
path never writes: an index on a read-only disk answers questions."""
from __future__ import annotations

import copy
import logging
import time
from functools import cached_property
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.errors import AssistantError, IndexMismatchError
from assistant.index.lexical import LexicalIndex, concat
from assistant.index.records import SCHEMA_VERSION, ChunkRecord, fingerprint, fingerprint_difference
from assistant.index.segments import PENDING, manifest_stamp, read_manifest, read_segment

log = logging.getLogger("assistant.index")

_EXACT_LIMIT = 2000  # filtered searches over at most this many rows are scored exactly, even at scale
_OPEN_ATTEMPTS = 5
_MASKS_KEPT = 256  # distinct filters a snapshot remembers (places × documents asked about); then it starts over


class IndexMissingError(AssistantError):
    pass


def check_manifest(manifest: dict, settings: Settings, embedder_id: str) -> None:
    """Refuse an index built with another embedder or chunking, naming both (never mix them silently)."""
    expected = fingerprint(settings, embedder_id)
    found = manifest.get("settings", {})
    if found != expected:
        raise IndexMismatchError("索引的构建设置与当前配置不一致（" + "；".join(fingerprint_difference(found, expected)) +
                                 "）。请运行 policy-assistant index build --rebuild 重建索引。")


class Snapshot:
    def __init__(self, index_dir: Path, manifest: dict, segments: list, settings: Settings):
        self.index_dir = index_dir
        self.manifest = manifest
        self.generation = int(manifest.get("generation", 0))
        self.stamp = manifest_stamp(index_dir)
        self.settings = settings
        documents = manifest.get("documents", {})
        self.docs: dict[str, dict] = {d: entry["meta"] for d, entry in documents.items()}
        records: list[ChunkRecord] = []
        self._parts = []  # (vectors of the segment, physical rows that are live, in order)
        self._sentences = []  # per row: (sentence vectors of its segment, start, end)
        self._unit_sentences: dict[int, np.ndarray] = {}  # per row read so far: its sentence vectors, unit length
        term_parts = []
        for segment in segments:
            live = np.asarray([i for i, r in enumerate(segment.records)
                               if documents.get(r.doc_id, {}).get("segment") == segment.name], dtype=np.int64)
            records.extend(segment.records[i] for i in live.tolist())
            self._parts.append((segment.vectors, live))
            term_parts.append(segment.terms.take(live))
            ptr = segment.sentence_ptr
            self._sentences.extend((segment.sentence_vectors, int(ptr[i]), int(ptr[i + 1])) for i in live.tolist())
        self.records: tuple[ChunkRecord, ...] = tuple(records)
        self.lexical = LexicalIndex(concat(term_parts))
        self.cities: tuple[str, ...] = tuple(dict.fromkeys(m["city"] for m in self.docs.values()))
        self._city_code = {c: i for i, c in enumerate(dict.fromkeys(r.city for r in self.records))}
        self._doc_code = {d: i for i, d in enumerate(dict.fromkeys(r.doc_id for r in self.records))}
        self._city_of = np.array([self._city_code[r.city] for r in self.records], dtype=np.int32)
        # rows by their document's division code, for searches limited to a place and the places above it
        self._place_number = {c: i for i, c in enumerate(dict.fromkeys(r.place_code for r in self.records
                                                                         if r.place_code))}
        self._place_of = np.array([self._place_number.get(r.place_code, -1) for r in self.records], dtype=np.int32)
        self._doc_of = np.array([self._doc_code[r.doc_id] for r in self.records], dtype=np.int32)
        self.row_of = {r.chunk_id: i for i, r in enumerate(self.records)}
        self._chroma_rows: int | None = None  # rows Chroma holds, counted on first approximate search
        self.full = self  # the whole generation (a `restricted` view points back at it)
        self._visible: np.ndarray | None = None  # rows a view may search; None: every row
        self._hidden: tuple[str, ...] = ()
        self._masks: dict[tuple, np.ndarray] = {}  # filters asked for so far (one question asks for several)

    def restricted(self, doc_ids) -> "Snapshot":
        """A view of this generation in which only these documents are searched and listed (the versions a
        question may cite); every search, statistic and filter of the view leaves the others out, as if they
        were not indexed. Rows keep their numbers. The same snapshot when that is every document."""
        full = self.full
        keep = frozenset(doc_ids)
        if keep >= set(full.docs):
            return full
        view = copy.copy(full)
        view._visible = np.isin(full._doc_of, [full._doc_code[d] for d in keep if d in full._doc_code])
        view._hidden = tuple(d for d in full.docs if d not in keep)
        view._masks = {}  # its own: every mask of a view leaves the hidden documents out
        view.docs = {d: m for d, m in full.docs.items() if d in keep}
        view.cities = tuple(dict.fromkeys(m["city"] for m in view.docs.values()))
        return view

    # ------------------------------------------------------------ opening
    @classmethod
    def open(cls, settings: Settings, embedder_id: str) -> "Snapshot":
        index_dir = Path(settings.index_dir)
        for attempt in range(_OPEN_ATTEMPTS):
            manifest = read_manifest(index_dir)
            if manifest is None or manifest.get("schema") != SCHEMA_VERSION:
                raise IndexMissingError("索引不存在或格式已过时，请先运行 policy-assistant index build")
            check_manifest(manifest, settings, embedder_id)
            try:
                segments = [read_segment(index_dir, name) for name in manifest.get("segments", [])]
            except FileNotFoundError:
                # a writer committed and collected this generation's segments while we read them: read again
                time.sleep(0.05 * (attempt + 1))
                continue
            return cls(index_dir, manifest, segments, settings)
        raise AssistantError("索引正在频繁更新，暂时无法读取，请稍后再试。")

    def is_current(self) -> bool:
        """False once a writer (in any process) has committed a newer generation."""
        return manifest_stamp(self.index_dir) == self.stamp

    # ------------------------------------------------------------ filters
    def mask(self, cities=None, doc_ids=None, place_codes=None) -> np.ndarray | None:
        """Rows of these cities, documents and division codes (each filter given narrows the others, within a
        view's documents); None when nothing is filtered. `place_codes` of a place's `lineage` select what
        governs a school there."""
        if not cities and not doc_ids and not place_codes:
            return self._visible
        key = (tuple(cities or ()), tuple(doc_ids or ()), tuple(place_codes or ()))
        keep = self._masks.get(key)
        if keep is not None:
            return keep
        keep = np.ones(len(self.records), dtype=bool) if self._visible is None else self._visible.copy()
        if cities:
            keep &= np.isin(self._city_of, [self._city_code.get(c, -1) for c in cities])
        if place_codes:
            keep &= np.isin(self._place_of, [self._place_number.get(c, -2) for c in place_codes])
        if doc_ids:
            keep &= np.isin(self._doc_of, [self._doc_code.get(d, -1) for d in doc_ids])
        keep.flags.writeable = False  # shared by every caller that asks for the same rows
        if len(self._masks) >= _MASKS_KEPT:
            self._masks.clear()
        self._masks[key] = keep
        return keep

    # ------------------------------------------------------------ lexical
    def bm25_scores(self, terms: tuple[str, ...], mask: np.ndarray | None = None) -> np.ndarray:
        return self.lexical.scores(terms, self._visible if mask is None else mask)

    def document_frequency(self, variants: tuple[str, ...], mask: np.ndarray | None = None) -> int:
        return self.lexical.document_frequency(variants, self._visible if mask is None else mask)

    def row_terms(self, row: int) -> frozenset[str]:
        return self.lexical.row_terms(row)

    # ------------------------------------------------------------ dense
    def dense_scores(self, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of every live row, from the stored vectors."""
        query = np.asarray(vector, dtype=np.float32)
        query = query / (np.linalg.norm(query) or 1.0)
        parts = []
        for (vectors, live), norms in zip(self._parts, self._norms):
            if len(live):
                parts.append((vectors @ query)[live] / norms)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def sentence_scores(self, row: int, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of each of the row's sentences (chunking.quote_units order) to `vector`; empty
        when the index has no sentence vectors."""
        block = self._unit_sentences.get(row)
        if block is None:  # normalised once per row: the snapshot never changes
            vectors, start, end = self._sentences[row]
            block = np.asarray(vectors[start:end], dtype=np.float32)
            norms = np.linalg.norm(block, axis=1)
            block = self._unit_sentences[row] = block / np.where(norms > 0, norms, 1.0)[:, None]
        if not len(block):
            return np.zeros(0, dtype=np.float32)
        return block @ np.asarray(vector, dtype=np.float32) / (np.linalg.norm(vector) or 1.0)

    @cached_property
    def _norms(self) -> list[np.ndarray]:
        out = []
        for vectors, live in self._parts:
            norms = np.linalg.norm(vectors[live], axis=1) if len(live) else np.zeros(0, dtype=np.float32)
            out.append(np.where(norms > 0, norms, 1.0).astype(np.float32))
        return out

    def dense_search(self, vector: np.ndarray, n: int, cities=None, doc_ids=None,
                     mask: np.ndarray | None = None, place_codes=None) -> list[tuple[int, float]]:
        """(row, cosine similarity) best first, within the filters. Exact from the stored vectors when the
        corpus or the filtered set is small; Chroma's approximate search over a large corpus."""
        if not len(self.records):
            return []
        if mask is None:
            mask = self.mask(cities, doc_ids, place_codes)
        selected = int(mask.sum()) if mask is not None else len(self.records)
        if selected == 0:
            return []
        if len(self.records) > self.settings.ann_min_rows and selected > _EXACT_LIMIT:
            found = self._approximate(vector, n, cities, doc_ids, place_codes)
            if found is not None:
                return found
        scores = self.dense_scores(vector)
        rows = np.flatnonzero(mask) if mask is not None else np.arange(len(scores))
        sub = scores[rows]
        top = np.argpartition(-sub, n)[:n] if len(sub) > n else np.arange(len(sub))
        top = top[np.argsort(-sub[top], kind="stable")]
        return [(int(rows[i]), float(sub[i])) for i in top]

    @cached_property
    def _chroma(self):
        from assistant.index.vectors import ChromaVectors

        return ChromaVectors(self.settings, self.manifest["settings"]["embedder"])

    def _chroma_usable(self) -> bool:
        """Chroma answers for this generation only when no write is pending (it may hold another generation's
        rows) and it holds as many rows as this snapshot (a database emptied or replaced is not trusted)."""
        if (self.index_dir / PENDING).exists():
            return False
        if self._chroma_rows is None:
            try:
                self._chroma_rows = self._chroma.count()
            except Exception as exc:  # noqa: BLE001 — exact search still answers
                self._chroma_rows = -1
                log.warning("%s 已改用精确检索。", str(exc) if isinstance(exc, AssistantError) else
                            f"向量库无法读取（{exc.__class__.__name__}），请运行 policy-assistant index build --rebuild；")
        return self._chroma_rows == len(self.records)

    def _approximate(self, vector, n, cities, doc_ids, place_codes=None) -> list[tuple[int, float]] | None:
        if not self._chroma_usable():
            return None
        clauses = []
        if cities:
            clauses.append({"city": {"$in": list(cities)}})
        if place_codes:
            clauses.append({"place_code": {"$in": list(place_codes)}})
        if doc_ids:
            clauses.append({"doc_id": {"$in": list(doc_ids)}})
        if self._hidden:
            clauses.append({"doc_id": {"$nin": list(self._hidden)}})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        try:
            found = self._chroma.query(vector, max(1, min(n, len(self.records))), where)
        except Exception as exc:  # noqa: BLE001 — an unreachable, damaged or read-only store: exact search answers
            log.warning("%s 已改用精确检索。", exc)
            return None
        # ids of rows this generation does not have (another writer's newer rows) are skipped
        return [(self.row_of[cid], sim) for cid, sim in found if cid in self.row_of]

    def chunk_counts(self) -> dict[str, int]:
        return {d: int(e.get("chunks", 0)) for d, e in self.manifest.get("documents", {}).items()}
