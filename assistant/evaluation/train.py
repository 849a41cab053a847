"""Learning the second ranking stage from the development splits (never from a held-out split).

For every development question, the candidates the pipeline would rank are labelled by the gold keys
(document, clause path, verbatim key phrase); a logistic regression (scikit-learn) learns the feature weights,
and the refusal threshold is the probability that best separates questions the documents answer from those
they do not. The weights are written beside the ranking code (retrieval/ranker.json) with what they were
trained on, so an answer can be traced to the weights that ranked it."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.evaluation.run import UNANSWERABLE, _is_gold
from assistant.retrieval.rerank import (ANSWERABLE_FEATURES, FEATURES, WEIGHTS, Candidate, Ranker,
                                       answerable_features, features, outside_evidence)

_COMPARE_CANDIDATES = 8
_RANK_C = 0.1  # strong regularisation: trained on one development split, it ranked the others better than C=1


@dataclass(frozen=True)
class Group:
    """One ranking decision: the candidates for a question (or one city of it) and their labels."""

    item: str
    matrix: np.ndarray
    labels: np.ndarray
    must_refuse: bool
    query: object
    hits: list
    scope: tuple = ()
    sentence_scores: list = ()
    outside: tuple | None = None  # hits of the places not asked about


def groups_for(assistant, items: list[dict]) -> list[Group]:
    answerer = assistant.answerer
    records = answerer.snapshot.records
    out: list[Group] = []
    for item in items:
        if "heldout" in item["split"]:
            raise ValueError(f"held-out item {item['id']} must never reach training")
        query = answerer.analyse(item["question"])
        if query.intent == "meta" or any("field" in e for e in item["expected"]):
            continue
        scope = answerer.scope(query, None)
        if scope.refusal:  # refused for its place before any ranking: nothing for the gate to learn from it
            continue
        expected = [e for e in item["expected"] if "clause" in e]
        refuse = item["type"] in UNANSWERABLE
        cities = scope.cities
        per_city = len(cities) > 1 or query.intent == "which_city" or item["type"] in ("compare", "which_city")
        targets = [(c,) for c in (cities or tuple(answerer.cities))] if per_city else [cities]
        for target in targets:
            k = _COMPARE_CANDIDATES if per_city else 20
            hits, vector = answerer.search(query, tuple((c,) for c in target), k)
            if not hits:
                continue
            matrix, sentence_scores = features(query, hits, answerer.snapshot, vector, target)
            outside = answerer.outside_hits(query, tuple(target), vector)
            labels = np.asarray([any(_is_gold(records[h.row].doc_id, records[h.row].clause, records[h.row].text, e)
                                     for e in expected) for h in hits], dtype=np.int8)
            city_refuses = refuse or (per_city and not labels.any() and
                                      not any(e["doc_id"] in {records[h.row].doc_id for h in hits} for e in expected))
            out.append(Group(item["id"], matrix, labels, city_refuses, query, hits, target, sentence_scores,
                             (outside, vector)))
    return out


def fit(groups: list[Group], snapshot) -> dict:
    from sklearn.linear_model import LogisticRegression

    X = np.concatenate([g.matrix for g in groups])
    y = np.concatenate([g.labels for g in groups])
    # the order within each question is learned pairwise (what counts is which candidate comes first: on a
    # split of the development items this chose the right clause first 0.90 of the time against 0.86 for a
    # per-candidate fit); a one-feature logistic fit then turns the scores into probabilities
    ranked = [g for g in groups if g.labels.any()]
    D, pair_labels = pairwise([g.matrix for g in ranked], [g.labels for g in ranked])
    direction = LogisticRegression(C=_RANK_C, fit_intercept=False, max_iter=3000).fit(D, pair_labels).coef_[0]
    calibration = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit((X @ direction)[:, None], y)
    scale, offset = float(calibration.coef_[0][0]), float(calibration.intercept_[0])
    ranker = Ranker((direction * scale).astype(np.float32), offset, 0.5)
    top1 = np.mean([g.labels[int(np.argmax(ranker.probabilities(g.matrix)))] for g in groups if g.labels.any()])

    # the answerable gate: question-level evidence → do the documents answer at all?
    decisive = [g for g in groups if g.must_refuse or g.labels.any()]
    evidence, answerable = [], []
    for g in decisive:
        probabilities = ranker.probabilities(g.matrix)
        order = np.argsort(-probabilities, kind="stable")
        candidates = [Candidate(g.hits[i], float(probabilities[i]), g.sentence_scores[i], g.matrix[i])
                      for i in order]
        outside_hits, vector = g.outside
        outside = outside_evidence(g.query, outside_hits, snapshot, vector, ranker, g.scope)
        evidence.append(answerable_features(g.query, candidates, snapshot,
                                           {c.hit.row: c.features for c in candidates}, g.scope, outside))
        answerable.append(0 if g.must_refuse else 1)
    E, a = np.asarray(evidence), np.asarray(answerable)
    gate = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(E, a)
    p = gate.predict_proba(E)[:, 1]
    grid = np.linspace(0.05, 0.95, 91)
    accuracy = [float(np.mean((p >= t) == (a == 1))) for t in grid]
    threshold = float(grid[int(np.argmax(accuracy))])
    return {"features": list(FEATURES), "coef": [round(float(c), 6) for c in ranker.coef],
            "intercept": round(ranker.intercept, 6), "threshold": round(threshold, 3),
            "answerable": {"features": list(ANSWERABLE_FEATURES),
                           "coef": [round(float(c), 6) for c in gate.coef_[0]],
                           "intercept": round(float(gate.intercept_[0]), 6), "threshold": round(threshold, 3)},
            "fit": {"groups": len(groups), "rows": int(len(y)), "positives": int(y.sum()),
                    "refusal_accuracy": round(max(accuracy), 4), "top1": round(float(top1), 4)}}


def quote_rows(assistant, items: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence of each expected clause, labelled by whether it holds (part of) the key phrase."""
    from assistant.answering.quotes import unit_features
    from assistant.chunking.clauses import quote_units
    from assistant.evaluation.baseline import squash

    answerer = assistant.answerer
    snapshot = answerer.snapshot
    X, y = [], []
    for item in items:
        keyed = [e for e in item["expected"] if "clause" in e]
        if not keyed:
            continue
        query = answerer.analyse(item["question"])
        vector = assistant.embedder.query_vector(query.search_text)
        for e in keyed:
            key = squash(e["key_phrase"])
            for row, r in enumerate(snapshot.records):
                if r.doc_id != e["doc_id"] or r.clause != e["clause"] or e["key_phrase"] not in r.text:
                    continue
                units = quote_units(r.text)
                labels = [float(key in squash(u) or (len(squash(u)) >= 6 and squash(u) in key)) for u in units]
                if len(units) < 2 or not any(labels):
                    continue
                dense = snapshot.sentence_scores(row, vector)
                X.append(unit_features(units, query, item["question"], dense if len(dense) == len(units) else None))
                y.append(np.asarray(labels))
    return X, y


def pairwise(groups_X: list[np.ndarray], groups_y: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Differences of (answering − not answering) feature rows within each group, both ways round: a linear
    model fitted on them orders each group's rows (what matters is the top of each group, not a cut-off)."""
    diffs = []
    for X, y in zip(groups_X, groups_y):
        positives, negatives = X[y > 0], X[y == 0]
        for p in positives:
            diffs.extend(p - n for n in negatives)
    D = np.asarray(diffs, dtype=np.float32)
    return np.concatenate([D, -D]), np.concatenate([np.ones(len(D)), np.zeros(len(D))])


def fit_quotes(groups_X: list[np.ndarray], groups_y: list[np.ndarray]) -> dict:
    from sklearn.linear_model import LogisticRegression

    from assistant.answering.quotes import QUOTE_FEATURES

    from assistant.answering.quotes import DEFAULT_QUOTE_WEIGHTS

    def top1(coef) -> float:
        return float(np.mean([y[int(np.argmax(X @ coef))] for X, y in zip(groups_X, groups_y)]))

    D, labels = pairwise(groups_X, groups_y)
    learned = LogisticRegression(C=1.0, fit_intercept=False, max_iter=2000).fit(D, labels).coef_[0]
    default = np.asarray(DEFAULT_QUOTE_WEIGHTS, dtype=np.float32)
    # keep the learned weights only when they choose the right sentence more often than the defaults
    coef, source = (learned, "learned") if top1(learned) > top1(default) else (default, "default")
    return {"features": list(QUOTE_FEATURES), "coef": [round(float(c), 6) for c in coef], "intercept": 0.0,
            "groups": len(groups_y), "top1": round(top1(coef), 4), "default_top1": round(top1(default), 4),
            "source": source}


def train(assistant, items: list[dict], path: Path = WEIGHTS) -> dict:
    dev = [i for i in items if "heldout" not in i["split"]]
    weights = fit(groups_for(assistant, dev), assistant.answerer.snapshot)
    weights["quote"] = fit_quotes(*quote_rows(assistant, dev))
    weights["version"] = time.strftime("%Y%m%d-%H%M%S")
    weights["trained_on"] = sorted({i["split"] for i in dev})
    weights["items"] = len(dev)
    weights["embedder"] = assistant.embedder.model_id
    path.write_text(json.dumps(weights, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return weights
