"""评测: run the gold set from the page (its time estimated from the last run's measured time per question),
the headline metrics in Chinese with a one-line explanation and the previous run beside them, the chart; and
the evaluator's view of user feedback, whose 👎 items export as candidate gold items.

Runs are written under Settings.data_dir/eval-runs, so "上次" survives a restart of the server."""
from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from assistant.domain.values import metric_text
from assistant.interfaces.web import views
from assistant.interfaces.web.common import bind, Downloads, failure
from assistant.interfaces.web.candidates import gold_candidates_jsonl
from assistant.interfaces.web.store import REASONS, Store

# key → (Chinese name, what it measures); the keys are the run's headline metrics
METRICS = {
    "single_city_recall_at_5": ("单城市题·前5条命中率", "问一个城市的题目中，应引用的条款出现在检索前 5 条里的比例（越高越好）"),
    "single_city_mrr_at_10": ("单城市题·排名得分", "应引用条款在前 10 条中的名次取倒数再平均：排第 1 记 1 分、第 2 记 0.5 分……（越高越好）"),
    "recall_at_5": ("全部题·前5条命中率", "所有可回答的题目中，应引用的条款出现在检索前 5 条里的比例（越高越好）"),
    "citation_precision": ("引用准确率", "回答所引用的条款中，确属应引用条款的比例（越高越好）"),
    "citation_recall": ("引用完整率", "应引用的条款中，回答确实引用到的比例（越高越好）"),
    "key_phrase_coverage": ("关键原文覆盖率", "应出现的关键原文语句确实出现在回答中的比例（越高越好）"),
    "compare_all_cities": ("对比题·城市全覆盖率", "跨城市对比题中，所问的每个城市都有引用条款的题目比例（越高越好）"),
    "out_of_scope_abstention": ("超范围题·拒答率", "超出政策文件范围的问题中，正确回答“未找到依据”的比例（越高越好）"),
    "abstention_precision": ("拒答准确率", "回答“未找到依据”的题目中，确实应当拒答的比例（越高越好）"),
    "abstention_recall": ("应拒答题·拒答率", "应当拒答的题目中，确实回答“未找到依据”的比例（越高越好）"),
    "false_abstentions": ("误拒答题数", "本可回答却回答了“未找到依据”的题目数（越少越好）"),
    "ask_p95_ms": ("回答耗时（95%题目以内，毫秒）", "95% 的题目在这个时间内答完（越短越好）"),
    "unverified_share": ("未核实句子比例", "大模型模式下未能在引用条款中逐字核实的句子比例（越低越好；摘录模式不适用）"),
}
LOWER_IS_BETTER = {"false_abstentions", "ask_p95_ms", "unverified_share"}
MODES = {"extractive": "摘录模式（逐字引用原文）", "llm": "大模型模式（逐句核对引用）"}
RATING_FILTERS = {"全部": None, "赞（有帮助）": "up", "踩（有问题）": "down"}
ALL_REASONS = "全部原因"


def runs_dir(assistant) -> Path:
    return Path(assistant.settings.data_dir) / "eval-runs"


def metric_rows(metrics: dict, previous: dict | None) -> list[dict]:
    """The headline metrics of a run beside the previous run's, with the direction of each change."""
    now = metrics["all"]["headline"]
    held = metrics.get("splits", {}).get("heldout", {}).get("headline", {})
    before = (previous or {}).get("all", {}).get("headline", {})
    rows = []
    for key, (name, help_) in METRICS.items():
        value, old = now.get(key), before.get(key)
        change, better = "—", None
        if isinstance(value, (int, float)) and isinstance(old, (int, float)):
            diff = value - old
            if abs(diff) < 1e-9:
                change = "持平"
            else:
                better = diff < 0 if key in LOWER_IS_BETTER else diff > 0
                change = f"{diff:+.3f} {'变好' if better else '变差'}"
        rows.append({"name": name, "help": help_, "now": metric_text(value), "heldout": metric_text(held.get(key)),
                     "before": metric_text(old), "change": change, "better": better})
    return rows


def _gold_size(path: Path) -> int | None:
    try:
        return sum(1 for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip())
    except OSError:
        return None


def estimate(assistant) -> str:
    """How long a run will take, from the last run's measured seconds per question; honest when unknown."""
    items = _gold_size(assistant.settings.eval_gold)
    last = assistant.last_evaluation(runs_dir(assistant))
    size = f"共 {items} 题" if items else "题数未知"
    if last and last.get("seconds") and last.get("items"):
        per = last["seconds"] / last["items"]
        total = per * (items or last["items"])
        return (f"在标注集（{assistant.settings.eval_gold.name}，{size}）上评测检索与回答质量。上次每题约 {per:.2f} 秒，"
                f"预计本次约 {_duration(total)}。")
    return (f"在标注集（{assistant.settings.eval_gold.name}，{size}）上评测检索与回答质量。首次运行，"
            "开始后按实际每题用时显示剩余时间。")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} 秒"
    return f"{seconds / 60:.1f} 分钟"


def run_evaluation(assistant, downloads: Downloads, progress=gr.Progress()):
    previous = assistant.last_evaluation(runs_dir(assistant))
    start = time.perf_counter()

    def step(done: int, total: int) -> None:
        left = (time.perf_counter() - start) / done * (total - done) if done else 0
        progress((done, total), desc=f"正在评测（约剩 {_duration(left)}）", unit="题")
    try:
        progress(0, desc="正在评测")
        outcome = assistant.evaluate(assistant.settings.eval_gold, runs_dir(assistant), naive=False, progress=step)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), gr.skip(), gr.skip()
    run = outcome.run
    mode = MODES.get(run.config.get("mode"), run.config.get("mode"))
    summary = (f"共 {len(run.results)} 题，用时 {run.seconds:.0f} 秒（每题 {run.seconds / max(1, len(run.results)):.2f} 秒）；"
               f"{mode}。" + (f"与上次（{previous['name']}）比较。" if previous else "这是第一次运行，没有上次结果可比较。"))
    html = views.metrics_html(metric_rows(run.metrics, previous and previous["metrics"]), summary)
    chart = downloads.copy(outcome.directory / "chart.png")
    return html, gr.Image(value=chart, visible=True), estimate(assistant)


def show_last(assistant, downloads: Downloads):
    """On page load: the time estimate, and the last run's metrics (compared with the one before it)."""
    last = assistant.last_evaluation(runs_dir(assistant))
    if last is None:
        return estimate(assistant), "", gr.Image(visible=False)
    chart = runs_dir(assistant) / last["name"] / "chart.png"
    prior = assistant.last_evaluation(runs_dir(assistant), before=last["name"])
    summary = f"最近一次评测（{last['name']}）：共 {last['items']} 题" + (
        f"，用时 {last['seconds']:.0f} 秒" if last.get("seconds") else "") + (
        f"；与再上一次（{prior['name']}）比较。" if prior else "。")
    return (estimate(assistant), views.metrics_html(metric_rows(last["metrics"], prior and prior["metrics"]), summary),
            gr.Image(value=downloads.copy(chart), visible=True) if chart.exists() else gr.Image(visible=False))


# ---------------------------------------------------------------- feedback from daily use
def list_feedback(store: Store, rating: str, reason: str, contains: str):
    items = store.feedback(RATING_FILTERS.get(rating), None if reason in (None, "", ALL_REASONS) else reason,
                           (contains or "").strip() or None)
    return views.feedback_html(items)


def export_candidates(store: Store, downloads: Downloads, reason: str, contains: str):
    """The 👎 items (under the current filters) as candidate gold items, one JSON object a line."""
    items = store.feedback("down", None if reason in (None, "", ALL_REASONS) else reason,
                           (contains or "").strip() or None)
    if not items:
        return views.message_html("没有符合条件的“踩”反馈可导出。", "note"), gr.DownloadButton(visible=False)
    path = downloads.write(f"候选评测题-{time.strftime('%Y%m%d-%H%M')}.jsonl", gold_candidates_jsonl(items))
    return (views.message_html(f"已生成 {len(items)} 道候选评测题（格式同 eval/gold.jsonl，review 字段为待核对信息），"
                               "请核对后加入评测集。", "ok"),
            gr.DownloadButton(f"下载候选评测题（{len(items)} 道）", value=path, visible=True))


def build(assistant, store: Store, downloads: Downloads, demo: gr.Blocks) -> None:
    intro = gr.Markdown(elem_id="eval-intro")
    eval_btn = gr.Button("运行评测", variant="primary", elem_id="eval-button")
    eval_table = gr.HTML(elem_id="eval-metrics")
    eval_chart = gr.Image(label="评测图表", type="filepath", interactive=False, buttons=["download"], visible=False,
                          elem_id="eval-chart")
    eval_btn.click(bind(run_evaluation, assistant, downloads), None, [eval_table, eval_chart, intro],
                   api_visibility="private", concurrency_limit=1)
    with gr.Accordion("用户反馈（来自问答页的赞/踩）", open=True, elem_id="feedback-view"):
        with gr.Row():
            rating = gr.Dropdown(choices=list(RATING_FILTERS), value="全部", label="评价", min_width=120,
                                 elem_id="fb-rating")
            reason = gr.Dropdown(choices=[ALL_REASONS, *REASONS], value=ALL_REASONS, label="原因", min_width=120,
                                 elem_id="fb-reason")
            contains = gr.Textbox(label="问题或意见包含", min_width=160, elem_id="fb-contains")
        with gr.Row():
            refresh = gr.Button("查看反馈", size="sm", elem_id="fb-refresh", min_width=80)
            export = gr.Button("将“踩”的反馈导出为候选评测题", size="sm", elem_id="fb-export", min_width=80)
            download = gr.DownloadButton("下载候选评测题", visible=False, size="sm", elem_id="fb-download", min_width=80)
        export_msg = gr.HTML(elem_id="fb-export-message")
        listing = gr.HTML(elem_id="fb-list")
    lister = bind(list_feedback, store)
    for trigger in (refresh.click, rating.input, reason.input, contains.submit):
        trigger(lister, [rating, reason, contains], [listing], api_visibility="private")
    export.click(bind(export_candidates, store, downloads), [reason, contains], [export_msg, download],
                 api_visibility="private")
    demo.load(bind(show_last, assistant, downloads), None, [intro, eval_table, eval_chart], api_visibility="private")
    demo.load(lister, [rating, reason, contains], [listing], api_visibility="private")
