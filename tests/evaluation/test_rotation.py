"""The rotation answers each development split with weights trained without it: the shipped weights are left as
they were, the split's own questions never reach its training, and held-out items are never answered."""
from __future__ import annotations

import hashlib

import pytest

from assistant.answering import quotes
from assistant.evaluation import rotation
from assistant.evaluation import train as T
from assistant.evaluation.run import GOLD_FILES, load_gold
from assistant.retrieval.rerank import WEIGHTS
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _items() -> list[dict]:
    items = load_gold([ROOT / "eval" / f for f in GOLD_FILES])
    # two whole splits to train on (the refusal gate needs must-refuse questions in every fold), a few to answer
    picked = [i for i in items if i["split"] in ("blind-dev", "blind-dev2")]
    picked += [i for i in items if i["split"] == "blind-dev3"][:20]
    return picked + [i for i in items if "heldout" in i["split"]][:3]


def test_a_split_is_answered_by_weights_that_never_saw_it(assistant, monkeypatch):
    shipped = hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    reader = quotes.quote_model
    seen = []
    fitted = []
    real_fit = T.fit

    def spying_fit(groups, snapshot):
        fitted.append({g.item for g in groups})
        return real_fit(groups, snapshot)

    monkeypatch.setattr("assistant.evaluation.train.fit", spying_fit)
    items = _items()
    results = rotation.rotate(assistant, items, only=["blind-dev3"],
                              progress=lambda done, total: seen.append(assistant.answerer.ranker))

    asked = {i["id"] for i in items if i["split"] == "blind-dev3"}
    assert {r.id for r in results} == asked  # that split only; held-out items are never answered
    assert len(fitted) == 1 and fitted[0] and not fitted[0] & asked  # trained without the split's questions
    assert not any(i in fitted[0] for i in (x["id"] for x in items if "heldout" in x["split"]))
    shipped_ranker = assistant.answerer.ranker
    assert seen and all(r is not shipped_ranker for r in seen)  # answered with the rotation's weights
    # afterwards everything is as shipped
    assert hashlib.sha256(WEIGHTS.read_bytes()).hexdigest() == shipped
    assert quotes.quote_model is reader
    summary = rotation.summary(results)
    assert summary["all"]["items"] == len(asked) == summary["splits"]["blind-dev3"]["items"]
    assert 0.0 <= summary["all"]["lead"] <= 1.0


def test_splits_keep_their_order_and_skip_held_out():
    items = [{"split": s} for s in ("dev", "heldout", "blind-dev2", "dev", "blind-heldout", "blind-dev")]
    assert rotation.splits_of(items) == ["dev", "blind-dev2", "blind-dev"]
