"""`eval`: the gold sets, a run directory with the report, and the CI gate."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.interfaces.cli.common import assistant, opened, print_json


def _eval_progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    print(f"\r评测中 [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from assistant.config import PROJECT_ROOT as root

    if args.train_ranker:
        weights = assistant().train_ranker([Path(g) for g in args.gold] if args.gold else None)
        fit = weights["fit"]
        print(f"二次排序权重已更新（{weights['items']} 道开发题，{fit['rows']} 个候选）：首位正确率 {fit['top1']}，"
              f"拒答判断正确率 {fit['refusal_accuracy']}，拒答阈值 {weights['threshold']}")
        return 0

    outcome = opened().evaluate(
        gold=[Path(g) for g in args.gold] if args.gold else None,
        runs_dir=Path(args.runs_dir) if args.runs_dir else root / "eval" / "runs",
        thresholds=Path(args.thresholds) if args.thresholds else root / "eval" / "thresholds.toml",
        naive=not args.no_baseline, mode=args.mode, progress=_eval_progress)
    if args.json:
        print_json({"run_dir": str(outcome.directory), "metrics": outcome.run.metrics, "config": outcome.run.config,
                    "gate_failures": [str(f) for f in outcome.failures]})
    else:
        print(outcome.table)
        print(f"\n报告：{outcome.directory / 'summary.md'}\n图表：{outcome.directory / 'chart.png'}")
        if outcome.failures:
            print("\n未达阈值：\n" + "\n".join(f"  {f}" for f in outcome.failures))
        elif outcome.thresholds:
            print(f"\n全部指标达到阈值（{outcome.thresholds.name}）。")
    return 1 if outcome.failures and args.check else 0
