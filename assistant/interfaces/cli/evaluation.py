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
        weights = assistant().train_ranker([Path(g) for g in args.gold] if args.gold else None,
                                           laws_dir=args.laws_dir)
        fit = weights["fit"]
        print(f"二次排序权重已更新（{'、'.join(weights['trained_on'])} 共 {weights['items']} 道开发题，{fit['rows']} 个候选）：首位正确率（未见过的题，交叉验证）{fit['top1_held_out']}，"
              f"拒答判断正确率 {fit['refusal_accuracy']}，拒答阈值 {weights['threshold']}")
        quote = weights["quote"]
        scorer = "提升树" if quote["source"] == "lightgbm" else "线性权重"
        print(f"选句：{scorer}（回答句排第一：提升树在没见过的条款上 {quote['trees_top1_held_out']}，"
              f"线性权重在训练条款上 {quote['top1']}）")
        return 0

    if args.laws:
        return run_laws_split(args)
    if args.rotation:
        return run_rotation(args)

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


def run_laws_split(args: argparse.Namespace) -> int:
    """`eval --laws`: the real-regulation split, with hit@5, lead, refusal and place/level labels."""
    from assistant.config import Settings
    from assistant.interfaces.facade import Assistant

    work = Path(args.work_dir) if args.work_dir else Path(Settings.from_env().data_dir) / "eval-laws"
    metrics, failures = Assistant.evaluate_laws(work, args.laws_dir, progress=_eval_progress,
                                                eval_dir=Path(args.laws_set) if args.laws_set else None)
    if args.json:
        print_json({"metrics": metrics, "failures": failures})
        return 0
    names = {"hit_at_5": "前5条命中", "lead": "首屏命中", "cited": "引用正确条款", "place_level_correct": "地方与层级标注正确",
             "refusal_accuracy": "拒答判断正确", "no_foreign_citation": "未引用不适用地方的文件"}
    print(f"法规分集：{metrics['items']} 题（可回答 {metrics['answerable']}，应拒答 {metrics['must_refuse']}）")
    for key, label in names.items():
        print(f"  {label}：{metrics[key]}")
    for item in failures:
        print(f"  待查 {item['id']}（{item['type']}）：命中 {item['hit5']}，首屏 {item['lead']}，"
              f"拒答 {item['abstained']}，层级 {item['place_level']}，不适用地方 {'、'.join(item['foreign']) or '无'}")
    return 0


def run_rotation(args: argparse.Namespace) -> int:
    """`eval --rotation`: each development split answered by weights trained without it."""
    import dataclasses
    import json

    only = args.rotation_splits.split(",") if args.rotation_splits else None
    results, metrics = opened().rotation([Path(g) for g in args.gold] if args.gold else None, only,
                                         laws_dir=args.laws_dir, laws_training=not args.no_laws_training,
                                         progress=_eval_progress)
    if args.items_out:
        with open(args.items_out, "w", encoding="utf-8") as out:
            for r in results:
                out.write(json.dumps(dataclasses.asdict(r), ensure_ascii=False) + "\n")
    if args.json:
        print_json(metrics)
        return 0
    names = {"lead": "首屏命中", "cited_any": "引用正确条款", "refusal_accuracy": "拒答判断正确",
             "conclusion_correct": "结论行正确", "false_abstentions": "误拒答"}
    print(f"轮换评测：{metrics['all']['items']} 题，每个分集用其余分集训练的权重回答")
    for split, m in [("全部", metrics["all"]), *metrics["splits"].items()]:
        print(f"  {split}：" + "，".join(f"{label} {m[key]}" for key, label in names.items()))
    return 0
