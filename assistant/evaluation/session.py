"""One evaluation as the CLI and the web app run it: gold sets in, a run directory and the gate out."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.evaluation.report import (GateFailure, check_thresholds, comparison_table, load_thresholds,
                                         previous_metrics, write_run)
from assistant.config import PROJECT_ROOT
from assistant.evaluation.run import GOLD_FILES, EvalRun, load_gold, run_eval


@dataclass(frozen=True)
class Outcome:
    run: EvalRun
    directory: Path  # eval/runs/<timestamp>
    table: str  # the headline metrics against the previous run, as Markdown
    failures: tuple[GateFailure, ...]
    thresholds: Path | None


def evaluate(assistant, gold, runs_dir: Path, thresholds: Path | None, naive: bool = True,
             mode: str | None = None, progress=None) -> Outcome:
    """`gold`: a gold file, several, or None for the default sets under eval/ (GOLD_FILES)."""
    if gold is None:
        gold = [PROJECT_ROOT / "eval" / name for name in GOLD_FILES]
    run = run_eval(assistant, load_gold(gold), naive=naive, mode=mode, progress=progress)
    previous = previous_metrics(runs_dir, runs_dir / "-")
    out = write_run(run, runs_dir)
    failures = check_thresholds(run, load_thresholds(thresholds)) if thresholds and thresholds.exists() else []
    return Outcome(run, out, comparison_table(run, previous), tuple(failures),
                   thresholds if thresholds and thresholds.exists() else None)


def train_ranker(assistant, gold=None, extra: tuple = ()) -> dict:
    """Fit the second ranking stage on the development items of the gold sets (held-out items are dropped
    before anything reads them) and on `extra` (other corpora's development items, see train.train), and
    write its weights; returns what was written."""
    from assistant.evaluation.train import train

    if gold is None:
        gold = [PROJECT_ROOT / "eval" / name for name in GOLD_FILES]
    items = [i for i in load_gold(gold) if "heldout" not in i["split"]]
    return train(assistant, items, extra=extra)
