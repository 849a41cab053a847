"""Evaluation reports: a run directory (config, per-item results, metrics, Markdown summary, PNG chart),
the comparison with the previous run, and the threshold gate."""
from __future__ import annotations

import json
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.domain.values import metric_text
from assistant.errors import AssistantError
from assistant.evaluation.run import TYPE_LABELS, VARIANTS, EvalRun

HEADLINE_LABELS = {
    "single_city_recall_at_5": "单城市 recall@5",
    "single_city_mrr_at_10": "单城市 MRR@10",
    "recall_at_5": "全部 recall@5",
    "citation_precision": "引用准确率",
    "citation_recall": "引用召回率",
    "key_phrase_coverage": "关键句覆盖率",
    "lead": "首屏命中率（结论或首句含关键句）",
    "cited_any": "引用了正确条款的比例",
    "refusal_accuracy": "拒答判断正确率",
    "conclusion_shown": "给出一句话结论的比例",
    "conclusion_correct": "结论正确率（给出时）",
    "compare_all_cities": "对比题城市全覆盖比例",
    "out_of_scope_abstention": "超范围拒答率",
    "abstention_precision": "拒答准确率",
    "abstention_recall": "拒答召回率",
    "false_abstentions": "误拒答题数",
    "ask_p95_ms": "回答延迟 p95（毫秒）",
    "unverified_share": "大模型回答中未核实句子比例",
}
# metrics where lower is better
LOWER_IS_BETTER = {"false_abstentions", "ask_p95_ms", "unverified_share"}


class ThresholdError(AssistantError):
    pass


@dataclass(frozen=True)
class GateFailure:
    scope: str
    metric: str
    value: float | None
    threshold: float

    def __str__(self) -> str:
        sign = "≤" if self.metric in LOWER_IS_BETTER else "≥"
        return f"{self.scope}.{self.metric} = {self.value}（要求 {sign} {self.threshold}）"


def load_thresholds(path: Path) -> dict[str, dict[str, float]]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThresholdError(f"无法读取阈值文件 {path}：{exc}") from exc


def check_thresholds(run: EvalRun, thresholds: dict[str, dict[str, float]]) -> list[GateFailure]:
    """Scopes: `all`, `dev`, `heldout`; each maps headline metric names to minimums (maximums for
    metrics in LOWER_IS_BETTER)."""
    failures = []
    for scope, limits in thresholds.items():
        block = run.metrics["all"] if scope == "all" else run.metrics["splits"].get(scope)
        if block is None:
            continue  # the gate covers the sets this run evaluated (e.g. only one file was given)
        for metric, limit in limits.items():
            if metric not in block["headline"]:
                raise ThresholdError(f"阈值文件中的指标 {metric} 不存在")
            value = block["headline"][metric]
            worse = value is None or (value > limit if metric in LOWER_IS_BETTER else value < limit)
            if worse:
                failures.append(GateFailure(scope, metric, value, limit))
    return failures


# ---------------------------------------------------------------- files
def write_run(run: EvalRun, runs_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = runs_dir / stamp
    n = 1
    while out.exists():
        n += 1
        out = runs_dir / f"{stamp}-{n}"
    out.mkdir(parents=True)
    config = {**run.config, "seconds": run.seconds, "items": len(run.results)}  # for time estimates
    (out / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(run.metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    with open(out / "items.jsonl", "w", encoding="utf-8") as f:
        for r in run.results:
            f.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
    previous = previous_metrics(runs_dir, out)
    (out / "summary.md").write_text(summary_markdown(run, previous), encoding="utf-8")
    write_chart(run, out / "chart.png")
    return out


def previous_metrics(runs_dir: Path, current: Path) -> dict | None:
    runs = sorted(p for p in runs_dir.glob("*/metrics.json") if p.parent != current)
    if not runs:
        return None
    try:
        return json.loads(runs[-1].read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def last_run(runs_dir: Path, before: str | None = None) -> dict | None:
    """The newest readable run in `runs_dir` (older than the run named `before`, when given): its directory
    name, metrics, item count, seconds and mode."""
    for metrics_file in sorted(Path(runs_dir).glob("*/metrics.json"), reverse=True):
        if before is not None and metrics_file.parent.name >= before:
            continue
        try:
            metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
            config = json.loads((metrics_file.parent / "config.json").read_text(encoding="utf-8"))
            items = config.get("items") or metrics["all"]["answers"]["items"]
        except (OSError, json.JSONDecodeError, KeyError, TypeError):
            continue
        return {"name": metrics_file.parent.name, "metrics": metrics, "items": items,
                "seconds": config.get("seconds"), "mode": config.get("mode")}
    return None


def comparison_table(run: EvalRun, previous: dict | None) -> str:
    now = run.metrics["all"]["headline"]
    held = run.metrics["splits"].get("heldout", {}).get("headline", {})
    before = (previous or {}).get("all", {}).get("headline", {})
    rows = ["| 指标 | 本次（全部） | 本次（留出集） | 上次（全部） | 变化 |", "|---|---|---|---|---|"]
    for key, label in HEADLINE_LABELS.items():
        value, old = now.get(key), before.get(key)
        delta = "—"
        if isinstance(value, (int, float)) and isinstance(old, (int, float)):
            diff = value - old
            better = diff < 0 if key in LOWER_IS_BETTER else diff > 0
            delta = "持平" if abs(diff) < 1e-9 else f"{diff:+.3f} {'↑' if better else '↓'}"
        rows.append(f"| {label} | {metric_text(value)} | {metric_text(held.get(key))} | {metric_text(old)} | {delta} |")
    return "\n".join(rows)


def _retrieval_table(block: dict) -> str:
    rows = ["| 检索方式 | recall@1 | recall@3 | recall@5 | recall@10 | MRR@10 |", "|---|---|---|---|---|---|"]
    for variant, m in block["retrieval"].items():
        rows.append(f"| {VARIANTS[variant][0]} | " + " | ".join(
            metric_text(m[k]) for k in ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10")) + " |")
    return "\n".join(rows)


def _group_table(groups: dict[str, dict], label) -> str:
    rows = ["| 分组 | 题数 | recall@5 | MRR@10 | 引用准确率 | 引用召回率 | 拒答召回率 | 回答 p50 毫秒 |",
            "|---|---|---|---|---|---|---|---|"]
    for name, block in groups.items():
        h, a = block["retrieval"].get("hybrid", {}), block["answers"]
        rows.append(f"| {label(name)} | {a['items']} | {metric_text(h.get('recall@5'))} | {metric_text(h.get('mrr@10'))} | "
                    f"{metric_text(a['citation_precision'])} | {metric_text(a['citation_recall'])} | "
                    f"{metric_text(a['abstention_recall'])} | {metric_text(a['ask_p50_ms'])} |")
    return "\n".join(rows)


def summary_markdown(run: EvalRun, previous: dict | None) -> str:
    c = run.config
    lines = [
        "# 评测报告",
        "",
        f"- 嵌入模型：`{c['embedder']}`；回答模式：{c['mode']}；条款数：{c['clauses']}；"
        f"语料哈希：`{(c['corpus_hash'] or '')[:12]}`；提交：`{c['git_commit']}`",
        f"- 题目：{len(run.results)}（"
        + "、".join(f"{s} {n}" for s, n in _split_counts(run).items()) + f"）；用时 {run.seconds} 秒"
        + (f"；朴素基线切块数 {run.naive_chunks}" if run.naive_chunks else ""),
        "",
        "## 核心指标（与上次比较）",
        "",
        comparison_table(run, previous),
        "",
        "## 检索：各方式对比（全部可回答题）",
        "",
        _retrieval_table(run.metrics["all"]),
        "",
        "## 各评测集",
        "",
        _split_table(run),
        "",
        "## 检索：各方式对比（留出集）",
        "",
        _retrieval_table(run.metrics["splits"]["heldout"]) if "heldout" in run.metrics["splits"] else "（无留出集）",
        "",
        "## 按题型",
        "",
        _group_table(run.metrics["types"], lambda t: TYPE_LABELS.get(t, t)),
        "",
        "## 按城市",
        "",
        _group_table(run.metrics["cities"], str),
        "",
        "## 未通过的题目（不列留出集，调参时不看）",
        "",
    ]
    misses = [r for r in run.results if "heldout" not in r.split and (
        (r.answerable and (r.abstained or r.expected_cited < r.expected or r.lead < 1.0))
        or (not r.answerable and not r.abstained))]
    for r in misses:
        what = ("误拒答" if r.abstained else f"引用 {r.expected_cited}/{r.expected} 条期望条款，"
                f"首屏命中 {r.lead:.2f}") if r.answerable else "未拒答"
        lines.append(f"- {r.id}（{TYPE_LABELS.get(r.type, r.type)}，{r.split}）{r.question} —— {what}")
    if not misses:
        lines.append("（无）")
    return "\n".join(lines) + "\n"


def _split_counts(run: EvalRun) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in run.results:
        counts[r.split] = counts.get(r.split, 0) + 1
    return counts


_SPLIT_METRICS = ("lead", "cited_any", "refusal_accuracy", "conclusion_shown", "conclusion_correct",
                  "key_phrase_coverage", "citation_precision", "single_city_recall_at_5")


def _split_table(run: EvalRun) -> str:
    splits = run.metrics["splits"]
    rows = ["| 指标 | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    for metric in _SPLIT_METRICS:
        rows.append(f"| {HEADLINE_LABELS.get(metric, metric)} | "
                    + " | ".join(metric_text(block["headline"].get(metric)) for block in splits.values()) + " |")
    return "\n".join(rows)


_CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "SimHei")
_CJK_FILES = ("wqy", "notosanscjk", "notosanssc", "sourcehansans", "simhei")


def _font_family() -> list[str] | None:
    """A CJK font if the system has one; otherwise the chart falls back to English labels. Fonts installed
    after matplotlib built its font cache are looked for among the system's font files."""
    from matplotlib import font_manager

    def find() -> list[str] | None:
        for name in _CJK_FONTS:
            try:
                font_manager.findfont(name, fallback_to_default=False)
                return [name]
            except ValueError:
                continue
        return None

    found = find()
    if found is None:
        for path in font_manager.findSystemFonts():
            if any(key in path.lower().replace("-", "").replace("_", "") for key in _CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = find()
    return found


_ENGLISH = {t: t.replace("_", " ") for t in TYPE_LABELS}


def write_chart(run: EvalRun, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    family = _font_family()
    if family:
        plt.rcParams["font.sans-serif"] = family + plt.rcParams["font.sans-serif"]
        plt.rcParams["axes.unicode_minus"] = False
    zh = family is not None
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.2), dpi=110)

    variants = list(run.metrics["all"]["retrieval"])
    width = 0.38
    names = {"recall@5": "前5条命中率", "mrr@10": "排名得分（MRR@10）"} if zh else {}
    for i, key in enumerate(("recall@5", "mrr@10")):
        values = [run.metrics["all"]["retrieval"][v][key] or 0 for v in variants]
        bars = left.bar([x + (i - 0.5) * width for x in range(len(variants))], values, width,
                        label=names.get(key, key), color=("#2563eb", "#f59e0b")[i])
        left.bar_label(bars, fmt="%.2f", fontsize=7)
    labels = [VARIANTS[v][0].split("（")[0] if zh else v for v in variants]
    left.set_xticks(range(len(variants)), labels, rotation=20, ha="right", fontsize=8)
    left.set_ylim(0, 1.1)
    left.set_title("检索方式对比" if zh else "Retrieval by variant", pad=26)

    types = list(run.metrics["types"])
    series = [("前5条命中率" if zh else "recall@5", lambda b: b["retrieval"].get("hybrid", {}).get("recall@5")),
              ("引用准确率" if zh else "citation precision", lambda b: b["answers"]["citation_precision"]),
              ("引用完整率" if zh else "citation recall", lambda b: b["answers"]["citation_recall"]),
              ("拒答率（应拒答题）" if zh else "abstention recall", lambda b: b["answers"]["abstention_recall"])]
    width = 0.2
    colours = ("#2563eb", "#f59e0b", "#16a34a", "#dc2626")  # fixed: a series with no value must not shift them
    for i, (label, get) in enumerate(series):
        values = [get(run.metrics["types"][t]) for t in types]
        xs = [x + (i - 1.5) * width for x in range(len(types))]
        right.bar([x for x, v in zip(xs, values) if v is not None], [v for v in values if v is not None],
                  width, label=label, color=colours[i])
    right.set_xticks(range(len(types)), [TYPE_LABELS[t] if zh else _ENGLISH[t] for t in types],
                     rotation=20, ha="right", fontsize=8)
    right.set_ylim(0, 1.1)
    right.set_title("按题型" if zh else "By question type", pad=26)
    # legends above the plots, outside the axes: inside they covered bars
    for axis, columns in ((left, 2), (right, 4)):
        axis.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=columns, frameon=False)
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
