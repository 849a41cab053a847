"""章程: check a draft charter against a city's requirements (the report downloadable as DOCX and Markdown),
and generate a compliant outline. Making the outline leaves the report on screen."""
from __future__ import annotations

import time

import gradio as gr

from assistant.interfaces.web import views
from assistant.interfaces.web.common import Downloads, bind, discard_upload, failure, file_label

GROUP_TYPES = ["紧密型", "引领型", "项目型", "融合型", "聚合型", "联合型"]
AUTO_TYPE = "自动识别"


def load_draft(assistant, file):
    if not file:
        return gr.skip(), ""
    try:
        return assistant.read_draft(file), ""
    except Exception as exc:  # noqa: BLE001
        return gr.skip(), views.message_html(failure(exc))
    finally:
        discard_upload(file)  # its text is in the text box now


def run_check(assistant, downloads: Downloads, text: str, city: str, group_type: str):
    """The report, and its downloads (Word and Markdown, requirement ids kept there for tooling)."""
    unchanged = gr.skip(), gr.skip(), gr.skip()
    if not (text or "").strip():
        return views.message_html("请粘贴章程草案全文，或上传 TXT/MD/DOCX 文件。"), *unchanged
    if not city:
        return views.message_html("请选择章程适用的城市。"), *unchanged
    try:
        report = assistant.check_charter(text, city, None if group_type in (None, "", AUTO_TYPE) else group_type)
        name = f"章程检查报告-{file_label(report.city)}-{time.strftime('%Y%m%d-%H%M')}"
        docx = assistant.write_charter_report(report, downloads.path(f"{name}.docx"))
        md = downloads.write(f"{name}.md", report.to_markdown())
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), *unchanged
    return (views.charter_html(report), "", gr.DownloadButton(value=str(docx), visible=True),
            gr.DownloadButton(value=md, visible=True))


def run_skeleton(assistant, downloads: Downloads, city: str, group_type: str):
    """The outline and its downloads; messages go to their own line, never over the check report."""
    if not city:
        return views.message_html("请选择章程适用的城市。", "notice"), gr.skip(), gr.skip(), gr.skip()
    try:
        skeleton = assistant.charter_skeleton(city, None if group_type in (None, "", AUTO_TYPE) else group_type)
        name = f"章程框架-{skeleton.city}{'-' + skeleton.group_type if skeleton.group_type else ''}"
        docx = assistant.write_skeleton(skeleton, downloads.path(f"{name}.docx"))
        md = downloads.write(f"{name}.md", skeleton.to_markdown())
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), gr.skip(), gr.skip(), gr.skip()
    # Skeleton.to_markdown() passes every text through render.inert
    return ("", skeleton.to_markdown(), gr.DownloadButton(value=str(docx), visible=True),
            gr.DownloadButton(value=md, visible=True))


def build(assistant, downloads: Downloads) -> gr.Dropdown:
    with gr.Row():
        with gr.Column(scale=3, min_width=280):
            draft = gr.Textbox(label="章程草案", lines=14, max_lines=30, elem_id="charter-draft",
                               placeholder="粘贴章程草案全文，或在右侧上传文件")
        with gr.Column(scale=2, min_width=240):
            draft_file = gr.File(label="上传草案（TXT/MD/DOCX）", file_types=[".txt", ".md", ".docx"], type="filepath")
            charter_city = gr.Dropdown(choices=[], value=None, label="城市", elem_id="charter-city")
            charter_type = gr.Dropdown(choices=[AUTO_TYPE] + GROUP_TYPES, value=AUTO_TYPE, label="集团类型")
            check_btn = gr.Button("检查章程", variant="primary", elem_id="charter-check")
            with gr.Row():
                report_docx = gr.DownloadButton("下载报告（DOCX）", visible=False, size="sm", elem_id="report-docx")
                report_md = gr.DownloadButton("下载报告（Markdown）", visible=False, size="sm", elem_id="report-md")
            skeleton_btn = gr.Button("生成合规章程框架", elem_id="skeleton-button")
            with gr.Row():
                docx_btn = gr.DownloadButton("下载框架（DOCX）", visible=False, size="sm", elem_id="skeleton-docx")
                skel_md_btn = gr.DownloadButton("下载框架（Markdown）", visible=False, size="sm", elem_id="skeleton-md")
    charter_out = gr.HTML(elem_id="charter-result")
    skeleton_msg = gr.HTML(elem_id="skeleton-message")
    skeleton_out = gr.Markdown(elem_id="skeleton-result")
    draft_file.upload(bind(load_draft, assistant), [draft_file], [draft, charter_out], api_visibility="private")
    check_btn.click(bind(run_check, assistant, downloads), [draft, charter_city, charter_type],
                    [charter_out, skeleton_out, report_docx, report_md], api_visibility="private")
    skeleton_btn.click(bind(run_skeleton, assistant, downloads), [charter_city, charter_type],
                       [skeleton_msg, skeleton_out, docx_btn, skel_md_btn], api_visibility="private")
    return charter_city
