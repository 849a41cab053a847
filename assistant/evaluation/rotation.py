"""Rotation: every development split answered by weights trained on the other development splits.

The shipped weights were trained on every development item, so scoring those items with them measures recall of
training data, not what a new user gets. The rotation retrains the second ranking stage (candidate trees, refusal
gate, sentence scorer) once per split with that split left out, answers the split's questions with those
weights, and pools the answers: each figure comes from questions the weights never saw. Held-out items never
reach it. It costs one training per split (about a minute each here), so it is a development tool, not a CI step.
"""
from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

from assistant.evaluation.run import ItemResult, answer_metrics, evaluate_item


def splits_of(items: list[dict]) -> list[str]:
    """The development splits, in the order their items come."""
    return list(dict.fromkeys(i["split"] for i in items if "heldout" not in i["split"]))


def rotate(assistant, items: list[dict], only: list[str] | None = None, progress=None,
           extra: tuple = ()) -> list[ItemResult]:
    """Answer each development split (or those in `only`) with weights fitted on the other splits, and on
    `extra` ((assistant, items) of other corpora, always trained on as the shipped weights are)."""
    from assistant.evaluation.train import fit, fit_quotes, groups_for, quote_rows

    dev = [i for i in items if "heldout" not in i["split"]]
    groups = groups_for(assistant, dev)
    # the sentence scorer's rows, per item, so a split's rows can be left out with it
    quotes = {i["id"]: quote_rows(assistant, [i]) for i in dev}
    always = [g for a, its in extra for g in groups_for(a, its)]
    always_quotes = [quote_rows(a, its) for a, its in extra]
    snapshot = assistant.answerer.snapshot
    results: list[ItemResult] = []
    targets = [s for s in splits_of(dev) if only is None or s in only]
    asked = [i for i in dev if i["split"] in targets]
    for split in targets:
        inside = {i["id"] for i in dev if i["split"] != split}
        weights = fit([g for g in groups if g.item in inside] + always, snapshot)
        X = [x for i in inside for x in quotes[i][0]] + [x for X, _ in always_quotes for x in X]
        y = [v for i in inside for v in quotes[i][1]] + [v for _, y in always_quotes for v in y]
        weights["quote"] = fit_quotes(X, y)
        with _answering_with(assistant, weights):
            for item in (i for i in dev if i["split"] == split):
                results.append(evaluate_item(assistant, item, None, ablations=False))
                if progress:
                    progress(len(results), len(asked))
    return results


@contextlib.contextmanager
def _answering_with(assistant, weights: dict):
    """The assistant answers with `weights` (ranker, gate and sentence scorer) until the block ends."""
    from assistant.answering import quotes
    from assistant.answering.pipeline import Answerer
    from assistant.retrieval.rerank import Ranker

    base = assistant.answerer
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ranker.json"
        path.write_text(json.dumps(weights, ensure_ascii=False), encoding="utf-8")
        ranker = Ranker.load(path)
    quote = quotes.QuoteModel.from_weights(weights["quote"])
    # the sentence scorer is read through a module-level cache of the shipped file: swap the reader, not the file,
    # so an interrupted rotation never leaves other weights on disk
    original = quotes.quote_model
    assistant._answerer = Answerer(base.full, base.embedder, base.settings, base.llm, ranker)
    quotes.quote_model = lambda: quote
    try:
        yield
    finally:
        quotes.quote_model = original
        assistant._answerer = base


def summary(results: list[ItemResult]) -> dict:
    """Pooled answer metrics, and per split."""
    by_split: dict[str, list[ItemResult]] = {}
    for r in results:
        by_split.setdefault(r.split, []).append(r)
    return {"all": answer_metrics(results), "splits": {s: answer_metrics(rs) for s, rs in by_split.items()}}
