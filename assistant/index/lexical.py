"""The lexical side of the index: per-row jieba terms stored once, and BM25 scoring over the live rows.

Each segment stores its rows' term counts (a CSR matrix over the segment's own vocabulary), so adding a
document never re-segments the corpus; a snapshot joins its segments' live rows and computes BM25 from them
(Lucene's variant with k1=1.5, b=0.75, float32, as bm25s computes it, so scores match the earlier index).
numpy only: the read path stays free of scipy's import time."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1 = 1.5
B = 0.75


@dataclass(frozen=True)
class TermRows:
    """Rows × terms counts: row i has terms vocab[term_ids[indptr[i]:indptr[i+1]]] with those counts."""

    vocab: tuple[str, ...]
    indptr: np.ndarray  # int64, rows + 1
    term_ids: np.ndarray  # int32, local to `vocab`
    counts: np.ndarray  # int32
    lengths: np.ndarray  # int32: tokens per row, repeats included (an empty row counts 1, as in bm25s)

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def build(cls, rows: list[tuple[str, ...]]) -> "TermRows":
        vocab: dict[str, int] = {}
        indptr, term_ids, counts, lengths = [0], [], [], []
        for terms in rows:
            own: dict[int, int] = {}
            for term in terms:
                tid = vocab.setdefault(term, len(vocab))
                own[tid] = own.get(tid, 0) + 1
            term_ids.extend(own)
            counts.extend(own.values())
            indptr.append(len(term_ids))
            lengths.append(len(terms) or 1)
        return cls(tuple(vocab), np.asarray(indptr, dtype=np.int64), np.asarray(term_ids, dtype=np.int32),
                   np.asarray(counts, dtype=np.int32), np.asarray(lengths, dtype=np.int32))

    def save(self, directory: Path) -> None:
        with open(directory / "terms.npz", "wb") as fh:
            np.savez(fh, indptr=self.indptr, term_ids=self.term_ids, counts=self.counts, lengths=self.lengths)
        (directory / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "TermRows":
        with np.load(directory / "terms.npz") as arrays:
            parts = {k: arrays[k] for k in ("indptr", "term_ids", "counts", "lengths")}
        vocab = tuple(json.loads((directory / "vocab.json").read_text(encoding="utf-8")))
        return cls(vocab, **parts)

    def take(self, rows: np.ndarray) -> "TermRows":
        """These rows only, in this order, over the same vocabulary."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        pick = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) if len(rows) else \
            np.zeros(0, dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
        return TermRows(self.vocab, indptr, self.term_ids[pick], self.counts[pick], self.lengths[rows])


def concat(parts: list[TermRows]) -> TermRows:
    """One matrix over the union of the parts' vocabularies, rows in order."""
    vocab: dict[str, int] = {}
    ids, indptrs, offset = [], [np.zeros(1, dtype=np.int64)], 0
    for part in parts:
        mapping = np.asarray([vocab.setdefault(t, len(vocab)) for t in part.vocab], dtype=np.int32)
        ids.append(mapping[part.term_ids] if len(part.term_ids) else part.term_ids)
        indptrs.append(part.indptr[1:] + offset)
        offset += int(part.indptr[-1])
    empty = np.zeros(0, dtype=np.int32)
    return TermRows(tuple(vocab), np.concatenate(indptrs),
                    np.concatenate(ids) if ids else empty,
                    np.concatenate([p.counts for p in parts]) if parts else empty,
                    np.concatenate([p.lengths for p in parts]) if parts else empty)


class LexicalIndex:
    """BM25 over a fixed set of rows; built once per snapshot, then read-only (safe across threads)."""

    def __init__(self, rows: TermRows):
        self.rows = rows
        self._row_terms: dict[int, frozenset[str]] = {}
        self.vocab = {t: i for i, t in enumerate(rows.vocab)}
        n = rows.rows
        self.df = np.bincount(rows.term_ids, minlength=len(rows.vocab)).astype(np.int64)
        idf = np.zeros(len(rows.vocab), dtype=np.float32)
        for tid, df in enumerate(self.df.tolist()):
            if df:
                idf[tid] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        row_of_entry = np.repeat(np.arange(n, dtype=np.int32), np.diff(rows.indptr))
        avg = float(rows.lengths.mean()) if n else 1.0
        # bm25s adds the per-row constant as a float32 scalar to float32 counts; the same here, vectorised
        constant = (K1 * ((1 - B) + B * rows.lengths.astype(np.float64) / avg)).astype(np.float32)
        tf = rows.counts.astype(np.float32)
        scores = idf[rows.term_ids] * (tf / (constant[row_of_entry] + tf))
        order = np.argsort(rows.term_ids, kind="stable")  # postings by term, rows ascending within a term
        self._postings_rows = row_of_entry[order]
        self._postings_scores = scores[order].astype(np.float32)
        self._postings_tf = tf[order]
        self._term_ptr = np.concatenate([[0], np.cumsum(self.df)]).astype(np.int64)
        self.n = n

    def scores(self, terms: tuple[str, ...], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 of every row. With a `mask`, the statistics (document frequencies, average length, row count)
        are those of the masked rows: a search within one city scores the same however many other cities'
        documents the index holds."""
        if mask is not None:
            return self._scores_within(terms, mask)
        out = np.zeros(self.n, dtype=np.float32)
        for term in terms:
            tid = self.vocab.get(term)
            if tid is None:
                continue
            start, end = self._term_ptr[tid], self._term_ptr[tid + 1]
            out[self._postings_rows[start:end]] += self._postings_scores[start:end]
        return out

    def _scores_within(self, terms: tuple[str, ...], mask: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        n = int(mask.sum())
        if not n:
            return out
        avg = float(self.rows.lengths[mask].mean())
        for term in terms:
            tid = self.vocab.get(term)
            if tid is None:
                continue
            start, end = self._term_ptr[tid], self._term_ptr[tid + 1]
            rows = self._postings_rows[start:end]
            inside = mask[rows]
            df = int(inside.sum())
            if not df:
                continue
            rows, tf = rows[inside], self._postings_tf[start:end][inside]
            idf = np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))
            constant = (K1 * ((1 - B) + B * self.rows.lengths[rows].astype(np.float64) / avg)).astype(np.float32)
            out[rows] += idf * (tf / (constant + tf))
        return out

    def document_frequency(self, variants: tuple[str, ...], mask: np.ndarray | None = None) -> int:
        """How many rows (of the masked ones, given a mask) contain the most widespread of these terms."""
        found = []
        for t in variants:
            tid = self.vocab.get(t)
            if tid is None:
                continue
            if mask is None:
                found.append(int(self.df[tid]))
            else:
                start, end = self._term_ptr[tid], self._term_ptr[tid + 1]
                found.append(int(mask[self._postings_rows[start:end]].sum()))
        return max(found) if found else 0

    def row_terms(self, row: int) -> frozenset[str]:
        found = self._row_terms.get(row)  # the index never changes: each row's set is made once
        if found is None:
            ids = self.rows.term_ids[self.rows.indptr[row]:self.rows.indptr[row + 1]]
            vocab = self.rows.vocab
            found = self._row_terms[row] = frozenset(vocab[i] for i in ids.tolist())
        return found
