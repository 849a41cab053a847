"""Which candidates are cited, and when another place's clause says the places asked about are silent."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from assistant.answering.extractive import select
from assistant.answering.pipeline import _elsewhere
from assistant.retrieval.rerank import ANSWERABLE_FEATURES, Candidate

pytestmark = pytest.mark.unit


def _candidate(row, probability, structural=False):
    hit = SimpleNamespace(row=row, structural=structural)
    return Candidate(hit, probability, np.zeros(0))


RECORDS = [SimpleNamespace(city=c) for c in ("长沙市", "长沙市", "南昌市", "青岛市", "郑州市中原区")]


def test_each_place_first_and_a_second_nearly_as_probable_in_the_order_given():
    chosen = select([_candidate(0, 0.99), _candidate(2, 0.95), _candidate(1, 0.9), _candidate(3, 0.45)], RECORDS)
    assert [c.hit.row for c in chosen] == [0, 2, 1, 3]


def test_a_place_whose_best_clause_is_far_weaker_is_not_cited():
    ranked = [_candidate(0, 0.99), _candidate(3, 0.45), _candidate(4, 0.05)]
    assert [c.hit.row for c in select(ranked, RECORDS, across_places=True)] == [0, 3], \
        "郑州市中原区 at 0.05 against 0.99 does not address it"
    assert [c.hit.row for c in select(ranked, RECORDS)] == [0, 3, 4], "layers of one place are all kept"


def test_a_clause_named_by_its_number_stands_alone_even_when_not_the_most_probable():
    chosen = select([_candidate(0, 0.3, structural=True), _candidate(1, 0.9)], RECORDS)
    assert [c.hit.row for c in chosen] == [0]


def _evidence(gap, coverage_gap):
    e = np.zeros(len(ANSWERABLE_FEATURES), dtype=np.float32)
    e[ANSWERABLE_FEATURES.index("outside_gap")] = gap
    e[ANSWERABLE_FEATURES.index("outside_coverage_gap")] = coverage_gap
    return e


def test_answered_elsewhere_and_not_here_only_when_both_gaps_are_large():
    assert _elsewhere(_evidence(-0.2, -0.4))
    assert not _elsewhere(_evidence(-0.2, 0.0)), "another place more probable, but not about more of the question"
    assert not _elsewhere(_evidence(0.0, -0.4))
    assert not _elsewhere(_evidence(0.0, 0.0)), "no other place: no contrast"
    assert _elsewhere(_evidence(-0.06, -0.21)) and not _elsewhere(_evidence(-0.04, -0.4))
    assert not _elsewhere(_evidence(-0.5, -0.19))
