"""对比: one question or topic across cities, and the topic × city overview, with Markdown/CSV exports."""
from __future__ import annotations

import time

import gradio as gr

from assistant.domain.topics import TOPICS
from assistant.interfaces.web import views
from assistant.interfaces.web.common import bind, Downloads, failure


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
    return (views.comparison_html(comparison), *_export_buttons(downloads, "对比", comparison))


def run_matrix(assistant, downloads: Downloads, cities: list[str], progress=gr.Progress()):
    progress(0, desc="正在逐个主题检索……")
    try:
        matrix = assistant.compare_matrix(cities=cities or None)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), gr.skip(), gr.skip()
    return (views.matrix_html(matrix), *_export_buttons(downloads, "主题总览", matrix))


def _export_buttons(downloads: Downloads, name: str, table) -> tuple:
    """Markdown and CSV downloads of a comparison or the topic overview."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    md = downloads.write(f"{name}-{stamp}.md", table.to_markdown())
    csv = downloads.write(f"{name}-{stamp}.csv", table.to_csv())
    return gr.DownloadButton(value=md, visible=True), gr.DownloadButton(value=csv, visible=True)


def build(assistant, downloads: Downloads) -> gr.CheckboxGroup:
    topic_labels = [t.label for t in TOPICS]
    cities_now = assistant.cities
    with gr.Row():
        topic = gr.Dropdown(choices=[""] + topic_labels, value="", label="对比主题", elem_id="compare-topic",
                            info="；".join(f"{t.label}：{t.description}" for t in TOPICS[:3]) + "……")
        compare_q = gr.Textbox(label="或输入问题", placeholder="例如：各地对集团规模有什么要求？")
    compare_cities = gr.CheckboxGroup(choices=cities_now, value=cities_now, label="参与对比的城市")
    with gr.Row():
        compare_btn = gr.Button("对比", variant="primary", elem_id="compare-button")
        matrix_btn = gr.Button("全部主题总览")
        md_btn = gr.DownloadButton("导出 Markdown", visible=False, size="sm")
        csv_btn = gr.DownloadButton("导出 CSV", visible=False, size="sm")
    compare_out = gr.HTML(elem_id="compare-result")
    compare = bind(run_compare, assistant, downloads)
    compare_btn.click(compare, [topic, compare_q, compare_cities], [compare_out, md_btn, csv_btn],
                      api_visibility="private")
    compare_q.submit(compare, [topic, compare_q, compare_cities], [compare_out, md_btn, csv_btn],
                     api_visibility="private")
    matrix_btn.click(bind(run_matrix, assistant, downloads), [compare_cities], [compare_out, md_btn, csv_btn],
                     api_visibility="private")
    return compare_cities
