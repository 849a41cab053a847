"""Hybrid retrieval: dense and BM25 (jieba terms) fused by reciprocal rank, with filters and clause numbers."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.index.snapshot import Snapshot
from assistant.retrieval.query import MARKER, clause_refs, path_segments, query_terms, structural_matches


@dataclass(frozen=True)
class Hit:
    row: int
    score: float  # fused reciprocal-rank score
    dense: float  # cosine similarity (0 when the dense side did not return it)
    bm25: float
    rank: int
    structural: bool = False  # matched a clause number the question names ("第三部分第5条")


class HybridRetriever:
    def __init__(self, store: Snapshot, embedder, candidates: int = 30, rrf_k: int = 60):
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self._markers: tuple[list, dict[str, np.ndarray]] | None = None

    def marked_rows(self, refs: list[tuple[str, ...]]) -> np.ndarray:
        """Rows whose clause path has, for every reference, a segment opening with one of its numbers: a
        superset of structural_matches' answer found by lookup instead of a pass over every clause."""
        records = self.store.records
        if self._markers is None or self._markers[0] is not records:  # built once per loaded index
            index: dict[str, list[int]] = {}
            for row, record in enumerate(records):
                for segment in path_segments(record.clause):
                    m = MARKER.match(segment)
                    if m:
                        index.setdefault(m.group(0), []).append(row)
            self._markers = (records, {k: np.unique(v) for k, v in index.items()})
        markers = self._markers[1]
        rows: np.ndarray | None = None
        for alternatives in refs:
            found = [markers[a] for a in alternatives if a in markers]
            level = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
            rows = level if rows is None else np.intersect1d(rows, level, assume_unique=True)
        return rows if rows is not None else np.zeros(0, dtype=np.int64)

    def search(self, question: str, k: int, cities=None, doc_ids=None, mode: str = "hybrid",
               vector: np.ndarray | None = None) -> list[Hit]:
        """Top-k hits; mode is 'hybrid', 'dense' or 'bm25' (for ablations)."""
        n = self.candidates
        mask = self.store.mask(cities, doc_ids)
        dense_ranked: list[tuple[int, float]] = []
        if mode in ("hybrid", "dense"):
            if vector is None:
                vector = self.embedder.query_vector(question)
            dense_ranked = self.store.dense_search(vector, n, cities, doc_ids, mask=mask)
        bm25 = np.zeros(len(self.store.records), dtype=np.float32)
        bm25_ranked: list[int] = []
        if mode in ("hybrid", "bm25"):
            bm25 = self.store.bm25_scores(query_terms(question), mask)
            if mask is not None:
                bm25 = np.where(mask, bm25, 0.0)
            top = np.argpartition(-bm25, min(n, len(bm25) - 1))[:n] if len(bm25) > n else np.arange(len(bm25))
            bm25_ranked = [int(i) for i in top[np.argsort(-bm25[top], kind="stable")] if bm25[i] > 0]

        fused: dict[int, float] = {}
        structural: list[int] = []
        refs = clause_refs(question)
        if refs:
            rows = self.marked_rows(refs)
            structural = structural_matches(question, self.store.records, rows if mask is None else rows[mask[rows]])[:n]
        for rank, row in enumerate(structural):
            # an explicit clause number outranks anything similarity can say
            fused[row] = fused.get(row, 0.0) + 2.0 / (self.rrf_k + rank + 1)
        for rank, (row, _) in enumerate(dense_ranked):
            fused[row] = fused.get(row, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        for rank, row in enumerate(bm25_ranked):
            fused[row] = fused.get(row, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        dense_of = dict(dense_ranked)
        order = sorted(fused, key=lambda r: (-fused[r], -dense_of.get(r, 0.0), r))[:k]
        named = set(structural)
        return [Hit(row, fused[row], dense_of.get(row, 0.0), float(bm25[row]), i + 1, row in named)
                for i, row in enumerate(order)]
