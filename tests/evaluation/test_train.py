"""Training the second ranking stage: boosted trees learned on some development questions rank the right clause
first on development questions they never saw more often than the hybrid search order, the weights file loads
back into the same ranking, and a held-out item never reaches training."""
from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.evaluation import train as T
from assistant.evaluation.run import GOLD_FILES, load_gold
from tests.conftest import ROOT
from assistant.retrieval.rerank import FEATURES, Ranker

pytestmark = pytest.mark.integration


def _dev_items() -> list[dict]:
    return [i for i in load_gold([ROOT / "eval" / f for f in GOLD_FILES]) if "heldout" not in i["split"]]


def _top1(ranker: Ranker, groups) -> float:
    ranked = [g for g in groups if g.labels.any()]
    return float(np.mean([g.labels[int(np.argmax(ranker.probabilities(g.matrix)))] for g in ranked]))


def test_trees_rank_unseen_questions_better_than_search_order(assistant, tmp_path):
    items = _dev_items()
    train_items = [i for i in items if i["split"] in ("blind-dev", "blind-dev2")]
    test_items = [i for i in items if i["split"] == "blind-dev3"]
    weights = T.fit(T.groups_for(assistant, train_items), assistant.answerer.snapshot)
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(weights), encoding="utf-8")
    learned = Ranker.load(path)
    assert learned.trees is not None and weights["model"] == "lightgbm"
    assert 0.5 < weights["fit"]["top1_held_out"] <= 1.0  # scored by trees that never saw each question

    unseen = T.groups_for(assistant, test_items)
    search_order = Ranker(np.eye(len(FEATURES), dtype=np.float32)[FEATURES.index("fused_rank")], 0.0, 0.5)
    assert _top1(learned, unseen) > _top1(search_order, unseen) + 0.03

    # probabilities are calibrated: a right clause is far more probable than a wrong one, on unseen questions
    positives = np.concatenate([learned.probabilities(g.matrix)[g.labels == 1] for g in unseen])
    negatives = np.concatenate([learned.probabilities(g.matrix)[g.labels == 0] for g in unseen])
    assert np.median(positives) > 0.5 > np.median(negatives)


def test_held_out_items_never_reach_training(assistant):
    held_out = [i for i in load_gold([ROOT / "eval" / f for f in GOLD_FILES]) if "heldout" in i["split"]][:1]
    with pytest.raises(ValueError, match="held-out"):
        T.groups_for(assistant, held_out)


def test_folds_keep_a_question_together():
    group = lambda item: T.Group(item, np.zeros((1, len(FEATURES))), np.zeros(1, dtype=np.int8), False, None, [])
    groups = [group(f"q{n}") for n in range(23)] + [group("q3"), group("q3")]
    folds = T._folds(groups)
    assert set(folds.values()) == set(range(T._FOLDS))
    assert len(folds) == 23 and max(list(folds.values()).count(k) for k in range(T._FOLDS)) <= 5


@pytest.mark.unit
def test_the_numpy_forest_scores_exactly_as_lightgbm_does():
    import lightgbm

    from assistant.retrieval.rerank import Forest

    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 6)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 3] * X[:, 1] > 0.8).astype(int)
    booster = lightgbm.LGBMRanker(n_estimators=40, num_leaves=6, min_child_samples=5, verbose=-1).fit(
        X, y, group=[20] * 30).booster_
    forest = Forest.from_json(Forest.from_lightgbm(booster.dump_model()).to_json())  # through the weights file
    unseen = rng.normal(size=(200, 6)).astype(np.float32)
    np.testing.assert_allclose(forest.predict(unseen), booster.predict(unseen), rtol=1e-6, atol=1e-9)
    assert len(forest.roots) == 40 and forest.predict(unseen[:0]).shape == (0,)


@pytest.mark.unit
def test_a_weights_file_of_another_format_falls_back_to_the_search_order(tmp_path):
    path = tmp_path / "ranker.json"
    for broken in ({"features": list(FEATURES), "trees": "a LightGBM model string", "intercept": 0.0,
                    "threshold": 0.3},
                   {"features": list(FEATURES), "coef": [1.0] * len(FEATURES)}):  # no intercept
        path.write_text(json.dumps(broken), encoding="utf-8")
        ranker = Ranker.load(path)
        assert ranker.trees is None and ranker.version == "untrained"
        assert ranker.coef[FEATURES.index("fused_rank")] > 0


@pytest.mark.unit
def test_sentence_trees_are_kept_when_they_beat_the_linear_weights_on_unseen_clauses():
    from assistant.answering.quotes import QUOTE_FEATURES, QuoteModel

    # the answering sentence is the one where two features agree (an interaction no linear score can express)
    rng = np.random.default_rng(3)
    groups_X, groups_y = [], []
    for _ in range(300):
        X = rng.integers(0, 2, size=(4, len(QUOTE_FEATURES))).astype(np.float32)
        y = (X[:, 0] == X[:, 1]).astype(float) * (X[:, 2] > 0)
        if 0 < y.sum() < len(y):
            groups_X.append(X)
            groups_y.append(y)
    weights = T.fit_quotes(groups_X, groups_y)
    assert weights["source"] == "lightgbm" and weights["scale"] > 0
    model = QuoteModel.from_weights(json.loads(json.dumps(weights)))  # through the weights file
    assert model.trees is not None
    top1 = np.mean([y[int(np.argmax(model.scores(X)))] for X, y in zip(groups_X, groups_y)])
    assert top1 > weights["top1"]  # better than the linear weights it was compared with


def test_the_refusal_threshold_sits_in_the_broad_optimum_not_on_a_lone_spike():
    from assistant.evaluation.train import steady_threshold

    grid = np.round(np.linspace(0.05, 0.95, 91), 2)
    accuracy = np.full(91, 0.80)
    accuracy[(grid >= 0.15) & (grid <= 0.25)] = 0.92  # a broad plateau …
    accuracy[grid == 0.60] = 0.93  # … and one threshold a single question better, far from it
    assert steady_threshold(grid, list(accuracy)) == pytest.approx(0.20)
