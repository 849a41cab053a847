"""评测: run the gold set from the page, with a progress bar, the headline metrics and the chart."""
from __future__ import annotations


import gradio as gr

from assistant.interfaces.web import views
from assistant.interfaces.web.common import bind, Downloads, failure


def run_evaluation(assistant, downloads: Downloads, progress=gr.Progress()):
    try:
        progress(0, desc="正在评测")
        outcome = assistant.evaluate(
            assistant.settings.eval_gold, downloads.path("runs"), naive=False,
            progress=lambda done, total: progress((done, total), desc="正在评测", unit="题"))
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), None
    run = outcome.run
    text = (f"共 {len(run.results)} 题，用时 {run.seconds:.0f} 秒（模式：{run.config.get('mode')}）\n\n"
            + outcome.table)
    return text, str(outcome.directory / "chart.png")


def build(assistant, downloads: Downloads) -> None:
    gr.Markdown(f"在标注集（{assistant.settings.eval_gold.name}）上评测检索与回答质量，约需数分钟。")
    eval_btn = gr.Button("运行评测", variant="primary", elem_id="eval-button")
    eval_table = gr.Markdown(elem_id="eval-metrics")
    eval_chart = gr.Image(label="评测图表", type="filepath", interactive=False, buttons=["download"],
                          elem_id="eval-chart")
    eval_btn.click(bind(run_evaluation, assistant, downloads), None, [eval_table, eval_chart],
                   api_visibility="private", concurrency_limit=1)
