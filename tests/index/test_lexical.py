"""Our BM25 (stored term counts, numpy scoring) against bm25s, the library it replaced: same scores."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.chunking.clauses import chunk_document
from assistant.corpus.manifest import load_corpus
from assistant.domain.values import PATH_SEPARATOR
from assistant.index.lexical import LexicalIndex, TermRows, concat
from assistant.retrieval.query import query_terms
from assistant.domain.segment import search_terms

from tests.conftest import CORPUS

pytestmark = pytest.mark.unit

ROWS = [search_terms(f"{c.clause.replace(PATH_SEPARATOR, ' ')} {c.text}")
        for d in load_corpus(CORPUS) for c in chunk_document(d.doc_id, d.text)]
QUESTIONS = ["长沙集团化办学的合作期限是多久？", "成员校退出集团需要谁批准", "教师交流轮岗比例", "五个一 工作制度",
             "北京 学区房", "集团章程 备案 教育行政部门"]


def test_scores_match_bm25s_on_the_bundled_corpus():
    import bm25s

    reference = bm25s.BM25()
    reference.index([list(r) or [""] for r in ROWS], show_progress=False)
    ours = LexicalIndex(TermRows.build(ROWS))
    for question in QUESTIONS:
        terms = [t for t in query_terms(question) if t in reference.vocab_dict]
        expected = reference.get_scores(terms) if terms else np.zeros(len(ROWS))
        assert np.allclose(ours.scores(tuple(terms)), expected, rtol=1e-5, atol=1e-6), question


def test_segments_joined_and_rows_taken_score_like_one_index():
    half = len(ROWS) // 2
    joined = LexicalIndex(concat([TermRows.build(ROWS[:half]), TermRows.build(ROWS[half:])]))
    whole = LexicalIndex(TermRows.build(ROWS))
    terms = query_terms("合作时限一般为六年")
    assert np.allclose(joined.scores(terms), whole.scores(terms))
    keep = np.arange(0, len(ROWS), 2)
    taken = LexicalIndex(TermRows.build(ROWS).take(keep))
    assert np.allclose(taken.scores(terms), LexicalIndex(TermRows.build([ROWS[i] for i in keep])).scores(terms))
    assert whole.document_frequency(("合作",)) == sum("合作" in r for r in ROWS)
    assert whole.row_terms(0) == frozenset(ROWS[0])


def test_scores_within_a_mask_use_the_masked_rows_statistics_only():
    mask = np.zeros(len(ROWS), dtype=bool)
    mask[: len(ROWS) // 3] = True
    whole = LexicalIndex(TermRows.build(ROWS))
    alone = LexicalIndex(TermRows.build([r for r, keep in zip(ROWS, mask) if keep]))
    for question in QUESTIONS:
        terms = query_terms(question)
        within = whole.scores(terms, mask)
        assert np.allclose(within[mask], alone.scores(terms), rtol=1e-5, atol=1e-6), question
        assert not within[~mask].any()
    assert whole.document_frequency(("合作",), mask) == sum("合作" in r for r, keep in zip(ROWS, mask) if keep)
