"""文档库: the document list and reader, upload with a preview to confirm, and removal."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from assistant.domain.values import STATUS_LABELS
from assistant.errors import AssistantError
from assistant.interfaces.web import views
from assistant.interfaces.web.common import bind, discard_upload, failure

UPLOAD_TYPES = [".pdf", ".docx", ".txt", ".md"]
STATUS_BY_LABEL = {label: key for key, label in STATUS_LABELS.items()}


def doc_choices(assistant):
    return [(f"{d.title}（{d.city}）", d.doc_id) for d in assistant.list_documents()]


def library_state(assistant):
    docs = assistant.list_documents()
    return (gr.Dataframe(value=views.document_rows(docs)),
            gr.Dropdown(choices=[(f"{d.title}（{d.city}）", d.doc_id) for d in docs], value=None))


def open_document(assistant, doc_id: str):
    if not doc_id:
        return views.message_html("请先选择一个文档。", "note")
    try:
        info = assistant.document(doc_id)
        try:
            clauses = assistant.document_clauses(doc_id)
            text = ""
        except AssistantError:
            clauses, text = [], assistant.document_text(doc_id)
        return views.document_html(info, clauses, text)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc))


def select_row(assistant, evt: gr.SelectData, table):
    try:
        row = evt.index[0]
        doc_id = table.iloc[row, 0] if hasattr(table, "iloc") else table[row][0]
    except Exception:  # noqa: BLE001
        return gr.skip(), gr.skip()
    return doc_id, open_document(assistant, doc_id)


def preview_upload(assistant, file):
    empty = ("", gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Button(interactive=False))
    if not file:
        return empty
    try:
        p = assistant.preview(file, filename=Path(file).name)
    except Exception as exc:  # noqa: BLE001
        return (views.message_html(failure(exc)),) + empty[1:]
    m = p.metadata
    return (views.preview_html(p), m.title or "", m.city or None, m.doc_number or "", m.date or "",
            STATUS_LABELS.get(m.status, STATUS_LABELS["official"]), gr.Button(interactive=p.action != "unchanged"))


def do_ingest(assistant, file, title, city, doc_number, date, status, progress=gr.Progress()):
    if not file:
        return views.message_html("请先选择要上传的文件。"), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    overrides = {k: v.strip() for k, v in (("title", title), ("city", city), ("doc_number", doc_number),
                                            ("date", date)) if v and v.strip()}
    overrides["status"] = STATUS_BY_LABEL.get(status, "official")
    progress(0, desc="正在解析文件……")

    def step(done, total):
        progress((done, total), desc="正在计算条款向量", unit="条")
    try:
        report = assistant.ingest(file, filename=Path(file).name, overrides=overrides, progress=step)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    finally:
        discard_upload(file)  # the corpus keeps its own copy; the upload folder keeps nothing
    actions = {"added": "已导入", "replaced": "已替换", "updated": "已更新", "unchanged": "文档库中已有该文件，未做更改"}
    lines = [f"{actions.get(report.action, report.action)}：{report.title}（{report.city}，{report.clauses} 个条款，"
             f"用时 {report.seconds:.1f} 秒）", *report.warnings]
    table, dropdown = library_state(assistant)
    return (views.message_html("\n".join(lines), "ok"), table, dropdown, *city_lists(assistant))


def city_lists(assistant):
    """The city choices of the chat filter, the comparison and the charter tab, after the corpus changed."""
    cities = assistant.cities
    return (gr.CheckboxGroup(choices=cities), gr.CheckboxGroup(choices=cities, value=cities),
            gr.Dropdown(choices=cities))


def do_remove(assistant, doc_id: str, confirmed: bool, progress=gr.Progress()):
    unchanged = (gr.skip(),) * 7
    if not doc_id:
        return views.message_html("请先选择一个文档。"), *unchanged
    if not confirmed:
        return views.message_html("请先勾选“确认删除”。"), *unchanged
    progress(0, desc="正在删除并更新索引……")
    try:
        report = assistant.remove_document(doc_id)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), *unchanged
    table, dropdown = library_state(assistant)
    return (views.message_html(f"已删除：{report.title}（移除 {report.removed} 个条款）", "ok"), table, dropdown,
            False, "", *city_lists(assistant))


def build(assistant, city_filters: list) -> None:
    """`city_filters`: the other tabs' city choosers, refreshed after an import or a removal."""
    docs = assistant.list_documents()
    table = gr.Dataframe(value=views.document_rows(docs), headers=views.DOC_COLUMNS,
                         interactive=False, wrap=True, elem_id="doc-table", label="文档列表")
    with gr.Row():
        doc_pick = gr.Dropdown(choices=doc_choices(assistant), value=None, label="选择文档", scale=4, elem_id="doc-pick")
        open_btn = gr.Button("打开阅读", scale=1, elem_id="open-button")
        confirm = gr.Checkbox(label="确认删除", value=False, scale=1, elem_id="remove-confirm")
        remove_btn = gr.Button("删除", variant="stop", scale=1, elem_id="remove-button")
    with gr.Accordion("上传新文档（PDF/DOCX/TXT/MD，20 MB 以内）", open=True):
        upload = gr.File(label="选择文件", file_types=UPLOAD_TYPES, type="filepath", elem_id="doc-upload")
        upload_info = gr.HTML()
        with gr.Row():
            meta_title = gr.Textbox(label="标题", scale=3)
            meta_city = gr.Dropdown(choices=assistant.cities, value=None, allow_custom_value=True,
                                    label="城市", scale=1, elem_id="meta-city")
        with gr.Row():
            meta_number = gr.Textbox(label="文号")
            meta_date = gr.Textbox(label="日期")
            meta_status = gr.Dropdown(choices=list(STATUS_LABELS.values()), value=STATUS_LABELS["official"], label="状态")
        ingest_btn = gr.Button("确认导入", variant="primary", interactive=False, elem_id="ingest-button")
    library_msg = gr.HTML(elem_id="library-message")
    doc_view = gr.HTML(elem_id="doc-view")
    upload.upload(bind(preview_upload, assistant), [upload],
                  [upload_info, meta_title, meta_city, meta_number, meta_date, meta_status, ingest_btn],
                  api_visibility="private")
    ingest_btn.click(bind(do_ingest, assistant), [upload, meta_title, meta_city, meta_number, meta_date, meta_status],
                     [library_msg, table, doc_pick, *city_filters], api_visibility="private")
    opener = bind(open_document, assistant)
    open_btn.click(opener, [doc_pick], [doc_view], api_visibility="private")
    doc_pick.input(opener, [doc_pick], [doc_view], api_visibility="private")
    table.select(bind(select_row, assistant), [table], [doc_pick, doc_view], api_visibility="private")
    remove_btn.click(bind(do_remove, assistant), [doc_pick, confirm],
                     [library_msg, table, doc_pick, confirm, doc_view, *city_filters], api_visibility="private")
