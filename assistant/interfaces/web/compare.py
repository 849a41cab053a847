"""对比: one question or topic across cities, and the topic × city overview, with exports named after what they
hold (Markdown / CSV for a comparison; XLSX / Markdown for the overview). On a phone both show one card per
city (views.py switches at 600 px)."""
from __future__ import annotations

import time

import gradio as gr

from assistant.domain.topics import TOPICS
from assistant.interfaces.web import views
from assistant.interfaces.web.common import bind, Downloads, failure, file_label
from assistant.render.overview import overview_markdown, overview_xlsx

HIDDEN = gr.DownloadButton(visible=False)


def run_compare(assistant, downloads: Downloads, topic: str, question: str, cities: list[str]):
    text = (question or "").strip() or (topic or "").strip()
    if not text:
        return views.message_html("请选择一个主题或输入要对比的问题。"), gr.skip(), gr.skip()
    if cities is not None and len(cities) == 1:
        return views.message_html("请至少选择两个城市进行对比（不选则对比全部城市）。"), gr.skip(), gr.skip()
    try:
        comparison = assistant.compare(text, cities=cities or None)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), gr.skip(), gr.skip()
    name = f"对比-{file_label(comparison.topic)}-{time.strftime('%Y%m%d-%H%M')}"
    md = downloads.write(f"{name}.md", comparison.to_markdown())
    csv = downloads.write(f"{name}.csv", comparison.to_csv())
    return (views.comparison_html(comparison), gr.DownloadButton("导出 Markdown", value=md, visible=True),
            gr.DownloadButton("导出 CSV", value=csv, visible=True))


def run_matrix(assistant, downloads: Downloads, cities: list[str], progress=gr.Progress()):
    progress(0, desc="正在逐个主题检索……")
    try:
        matrix = assistant.compare_matrix(cities=cities or None)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), gr.skip(), gr.skip()
    name = f"主题总览-{len(matrix.rows)}个主题×{len(matrix.cities)}个城市-{time.strftime('%Y%m%d-%H%M')}"
    xlsx = downloads.write(f"{name}.xlsx", overview_xlsx(matrix))
    md = downloads.write(f"{name}.md", overview_markdown(matrix))
    return (views.matrix_html(matrix), gr.DownloadButton("导出 Markdown", value=md, visible=True),
            gr.DownloadButton("导出 Excel（XLSX）", value=xlsx, visible=True))


def build(assistant, downloads: Downloads) -> gr.CheckboxGroup:
    topic_labels = [t.label for t in TOPICS]
    with gr.Row():
        topic = gr.Dropdown(choices=[""] + topic_labels, value="", label="对比主题", elem_id="compare-topic", min_width=260,
                            info="；".join(f"{t.label}：{t.description}" for t in TOPICS[:3]) + "……")
        compare_q = gr.Textbox(label="或输入问题", placeholder="例如：各地对集团规模有什么要求？", min_width=260)
    compare_cities = gr.CheckboxGroup(choices=[], value=[], label="参与对比的城市",
                                      elem_id="compare-cities")
    with gr.Row():
        compare_btn = gr.Button("对比", variant="primary", elem_id="compare-button", min_width=80)
        matrix_btn = gr.Button("全部主题总览", elem_id="matrix-button", min_width=80)
        first = gr.DownloadButton("导出 Markdown", visible=False, size="sm", elem_id="export-first", min_width=80)
        second = gr.DownloadButton("导出 CSV", visible=False, size="sm", elem_id="export-second", min_width=80)
    compare_out = gr.HTML(elem_id="compare-result")
    compare = bind(run_compare, assistant, downloads)
    for trigger in (compare_btn.click, compare_q.submit):
        trigger(compare, [topic, compare_q, compare_cities], [compare_out, first, second], api_visibility="private")
    matrix_btn.click(bind(run_matrix, assistant, downloads), [compare_cities], [compare_out, first, second],
                     api_visibility="private")
    return compare_cities
