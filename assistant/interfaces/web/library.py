"""文档库: the document list and reader, upload of one or several files with a preview to confirm, and removal.

The lists (table, document picker, every tab's city filter) are read for each new page session and again after
each import or removal, never fixed at server start; an import or removal clears the old preview and disables
"确认导入". A citation card's link opens its clause here (`open_clause`)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from assistant.domain.values import STATUS_LABELS
from assistant.errors import AssistantError
from assistant.interfaces.web import views
from assistant.interfaces.web.common import bind, discard_upload, failure

UPLOAD_TYPES = [".pdf", ".docx", ".txt", ".md", ".png", ".jpg", ".jpeg"]
STATUS_BY_LABEL = {label: key for key, label in STATUS_LABELS.items()}
ACTIONS = {"added": "已导入", "versioned": "已作为新版本导入（旧版本保留）", "replaced": "已替换", "updated": "已更新",
           "unchanged": "文档库中已有该文件，未做更改"}
MANY_FILES_NOTE = "已选择多个文件：标题、文号、日期按各文件自动识别；填写的城市和状态将用于全部文件。"


def _files(file) -> list[str]:
    """The chosen files as paths: Gradio passes one path, a list of paths, or nothing."""
    if not file:
        return []
    return [str(f) for f in (file if isinstance(file, (list, tuple)) else [file]) if f]


def doc_choices(assistant):
    return [(f"{d.title}（{d.city}）", d.doc_id) for d in assistant.list_documents()]


def library_state(assistant, selected: str | None = None) -> tuple:
    """The document table and the picker as they are now (the picker keeps `selected` if it still exists)."""
    docs = assistant.list_documents()
    choices = [(f"{d.title}（{d.city}）", d.doc_id) for d in docs]
    keep = selected if any(doc_id == selected for _, doc_id in choices) else None
    return gr.Dataframe(value=views.document_rows(docs)), gr.Dropdown(choices=choices, value=keep)


def city_lists(assistant) -> tuple:
    """The city choices of the chat filter, the comparison, the charter tab and the upload form."""
    cities = assistant.cities
    # choices and values together: a value no longer among the choices would fail the next event
    return (gr.Dropdown(choices=cities, value=None), gr.CheckboxGroup(choices=cities, value=cities),
            gr.Dropdown(choices=cities, value=None), gr.Dropdown(choices=cities, value=None))


def refresh(assistant) -> tuple:
    """Everything that depends on the corpus, read now: for a new page session and after each change."""
    return (*library_state(assistant), *city_lists(assistant))


def _upload_cleared() -> tuple:
    """The upload form after an import or a removal: no file, no preview, nothing to confirm (the city field is
    cleared with the lists)."""
    return (gr.File(value=None), "", "", "", "", STATUS_LABELS["official"], gr.Button(interactive=False))


def _no_preview() -> tuple:
    return "", "", None, "", "", STATUS_LABELS["official"], gr.Button(interactive=False)


def open_document(assistant, doc_id: str, focus: str | None = None):
    if not doc_id:
        return views.message_html("请先选择一个文档。", "note")
    try:
        info = assistant.document(doc_id)
        try:
            clauses = assistant.document_clauses(doc_id)
            text = ""
        except AssistantError:
            clauses, text = [], assistant.document_text(doc_id)
        return views.document_html(info, clauses, text, focus)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc))


def version_choices(assistant, doc_id: str | None):
    """The other versions of the chosen document, to compare it with (its next version chosen by default)."""
    if not doc_id:
        return gr.Dropdown(choices=[], value=None)
    try:
        versions = assistant.versions(doc_id)
    except Exception:  # noqa: BLE001 — a document removed meanwhile: nothing to compare
        return gr.Dropdown(choices=[], value=None)
    choices = [(f"{v.title}（{v.to_dict()['force_label']}，{v.doc_id}）", v.doc_id) for v in versions
               if v.doc_id != doc_id]
    following = next((v.superseded_by for v in versions if v.doc_id == doc_id), None)
    return gr.Dropdown(choices=choices, value=following)


def show_diff(assistant, old: str | None, new: str | None):
    """版本对比: the chosen document against another version (by default the one after it)."""
    if not old:
        return views.message_html("请先在上方选择一个文档。", "note")
    try:
        return views.diff_html(assistant.diff(old, new or None))
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc))


def open_clause(assistant, target: str):
    """A citation card's link ("doc_id|chunk_id|nonce"): the 文档库 tab, the document open at that clause."""
    doc_id, _, rest = (target or "").partition("|")
    chunk_id = rest.partition("|")[0]
    if not doc_id:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    table, picker = library_state(assistant, doc_id)
    return gr.Tabs(selected="library"), table, picker, open_document(assistant, doc_id, chunk_id or None)


def select_row(assistant, evt: gr.SelectData, table):
    try:
        row = evt.index[0]
        doc_id = table.iloc[row, 0] if hasattr(table, "iloc") else table[row][0]
    except Exception:  # noqa: BLE001
        return gr.skip(), gr.skip()
    return library_state(assistant, doc_id)[1], open_document(assistant, doc_id)


def preview_upload(assistant, file):
    """The preview of the chosen file(s) and the metadata form: filled in from one file, left to the
    detection of each when there are several."""
    paths = _files(file)
    if not paths:
        return _no_preview()
    if len(paths) > 1:
        return _preview_many(assistant, paths)
    try:
        p = assistant.preview(paths[0], filename=Path(paths[0]).name)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), *_no_preview()[1:]
    m = p.metadata
    return (views.preview_html(p), m.title or "", m.city or None, m.doc_number or "", m.date or "",
            STATUS_LABELS.get(m.status, STATUS_LABELS["official"]), gr.Button(interactive=p.action != "unchanged"))


def version_target(assistant, file):
    """The 取代 picker for one chosen file: every document, the one it was recognised as a new version of chosen
    (none for a new document); nothing to choose for several files."""
    paths = _files(file)
    if len(paths) != 1:
        return gr.Dropdown(choices=[], value=None, interactive=False)
    try:
        preview = assistant.preview(paths[0], filename=Path(paths[0]).name)  # the extraction is remembered
    except Exception:  # noqa: BLE001 — the preview already says why the file cannot be read
        return gr.Dropdown(choices=[], value=None, interactive=False)
    chosen = preview.supersedes if preview.action == "version" else None
    choices = [(f"{d.title}（{d.city}，{d.to_dict()['force_label']}，{d.doc_id}）", d.doc_id)
               for d in assistant.list_documents()]
    return gr.Dropdown(choices=choices, value=chosen, interactive=True)


def _preview_many(assistant, paths: list[str]) -> tuple:
    previews = []
    for path in paths:
        name = Path(path).name
        try:
            previews.append((name, assistant.preview(path, filename=name), ""))
        except Exception as exc:  # noqa: BLE001
            previews.append((name, None, failure(exc)))
    todo = any(p is not None and p.action != "unchanged" for _, p, _ in previews)
    html = views.message_html(MANY_FILES_NOTE, "note") + views.previews_html(previews)
    return html, *_no_preview()[1:-1], gr.Button(interactive=todo)


def _overrides(many: bool, title, city, doc_number, date, status) -> dict:
    fields = (("city", city),) if many else (("title", title), ("city", city), ("doc_number", doc_number),
                                             ("date", date))
    overrides = {k: v.strip() for k, v in fields if v and v.strip()}
    overrides["status"] = STATUS_BY_LABEL.get(status, "official")
    return overrides


def _ingest_one(assistant, path: str, overrides: dict, label: str, progress,
                supersedes: str | None = None) -> tuple[str, bool, str]:
    """(file name, imported?, what happened or why not) for one file (`supersedes`: the document it replaces as
    a new version, chosen by the user)."""
    name = Path(path).name
    progress(0, desc=f"正在解析{label}：{name}")

    def step(done, total):
        progress((done, total), desc=f"{label}：正在计算条款向量", unit="条")
    try:
        versions = {"supersedes": supersedes} if supersedes else {}
        report = assistant.ingest(path, filename=name, overrides=overrides, progress=step, **versions)
    except Exception as exc:  # noqa: BLE001
        return name, False, failure(exc)
    finally:
        discard_upload(path)  # the corpus keeps its own copy; the upload folder keeps nothing
    text = (f"{ACTIONS.get(report.action, report.action)}：{report.title}（{report.city}，{report.clauses} 个条款，"
            f"用时 {report.seconds:.1f} 秒）")
    return name, True, "；".join([text, *report.warnings])


def do_ingest(assistant, file, title, city, doc_number, date, status, supersedes=None, progress=gr.Progress()):
    """Import each chosen file (one transaction each), then refresh every list and clear the form. `supersedes`
    (one file only) makes it the new version of that document; the old one is kept."""
    paths = _files(file)
    if not paths:
        return (views.message_html("请先选择要上传的文件。"),) + (gr.skip(),) * 13
    overrides = _overrides(len(paths) > 1, title, city, doc_number, date, status)
    labels = [f"第 {i}/{len(paths)} 个文件" if len(paths) > 1 else "文件" for i in range(1, len(paths) + 1)]
    target = supersedes if len(paths) == 1 else None
    results = [_ingest_one(assistant, path, overrides, label, progress, target) for path, label in zip(paths, labels)]
    if len(results) == 1:
        _, ok, text = results[0]
        message = views.message_html(text, "ok" if ok else "error")
    else:
        message = views.ingest_results_html(results)
    return (message, *refresh(assistant), *_upload_cleared())


def do_remove(assistant, doc_id: str, confirmed: bool, progress=gr.Progress()):
    unchanged = (gr.skip(),) * 15
    if not doc_id:
        return views.message_html("请先选择一个文档。"), *unchanged
    if not confirmed:
        return views.message_html("请先勾选“确认删除”。"), *unchanged
    progress(0, desc="正在删除并更新索引……")
    try:
        report = assistant.remove_document(doc_id)
    except Exception as exc:  # noqa: BLE001
        return views.message_html(failure(exc)), *unchanged
    return (views.message_html(f"已删除：{report.title}（移除 {report.removed} 个条款）", "ok"), False, "",
            *refresh(assistant), *_upload_cleared())


@dataclass(frozen=True)
class LibraryTab:
    table: gr.Dataframe
    picker: gr.Dropdown
    reader: gr.HTML


def build_link(assistant, tabs: gr.Tabs, library: LibraryTab) -> None:
    """The hidden button a citation card's link clicks (views.JS); its js step hands over the card's target.
    Made outside the tabs: Gradio mounts a tab's content only once the tab is shown."""
    target = gr.Textbox(visible=False)
    button = gr.Button("打开引用条款", visible="hidden", elem_id="doc-link-button")
    button.click(bind(open_clause, assistant), [target], [tabs, library.table, library.picker, library.reader],
                 js="(t) => window.paDocTarget || ''", api_visibility="private")


def build(assistant, city_filters: list, demo: gr.Blocks) -> LibraryTab:
    """`city_filters`: the chat, comparison and charter city choosers, refreshed with the library."""
    table = gr.Dataframe(value=[], headers=views.DOC_COLUMNS, interactive=False, wrap=True, elem_id="doc-table",
                         label="文档列表")
    with gr.Row():
        doc_pick = gr.Dropdown(choices=[], value=None, label="选择文档", scale=4, elem_id="doc-pick", min_width=200)
        open_btn = gr.Button("打开阅读", scale=1, elem_id="open-button", min_width=80)
        confirm = gr.Checkbox(label="确认删除", value=False, scale=1, elem_id="remove-confirm", min_width=80)
        remove_btn = gr.Button("删除", variant="stop", scale=1, elem_id="remove-button", min_width=60)
    library_msg = gr.HTML(elem_id="library-message")
    with gr.Accordion("版本对比", open=False, elem_id="version-compare"):
        with gr.Row():
            other_version = gr.Dropdown(choices=[], value=None, label="与所选文档的哪个版本对比（默认：下一个版本）",
                                        scale=4, elem_id="diff-new", min_width=200)
            diff_btn = gr.Button("逐条对比", scale=1, elem_id="diff-button", min_width=80)
        diff_view = gr.HTML(elem_id="diff-view")
    doc_view = gr.HTML(elem_id="doc-view")
    with gr.Accordion("上传新文档（PDF/DOCX/TXT/MD，每个 20 MB 以内，可一次选择多个）", open=True):
        upload = gr.File(label="选择文件", file_types=UPLOAD_TYPES, type="filepath", file_count="multiple",
                         elem_id="doc-upload")
        upload_info = gr.HTML(elem_id="upload-info")
        with gr.Row():
            meta_title = gr.Textbox(label="标题", scale=3, min_width=200, elem_id="meta-title")
            meta_city = gr.Dropdown(choices=[], value=None, allow_custom_value=True, label="城市", scale=1,
                                    elem_id="meta-city", min_width=120)
        with gr.Row():
            meta_number = gr.Textbox(label="文号", min_width=120)
            meta_date = gr.Textbox(label="日期", min_width=120)
            meta_status = gr.Dropdown(choices=list(STATUS_LABELS.values()), value=STATUS_LABELS["official"],
                                      label="状态", min_width=120)
        meta_supersedes = gr.Dropdown(choices=[], value=None, interactive=False, elem_id="meta-supersedes",
                                      label="作为哪份文档的新版本（自动识别，可修改；旧版本保留）")
        ingest_btn = gr.Button("确认导入", variant="primary", interactive=False, elem_id="ingest-button")

    lists = [table, doc_pick, *city_filters, meta_city]
    previewed = [upload_info, meta_title, meta_city, meta_number, meta_date, meta_status, ingest_btn]
    form = [upload, upload_info, meta_title, meta_number, meta_date, meta_status, ingest_btn]
    no_target = lambda: gr.Dropdown(choices=[], value=None, interactive=False)  # noqa: E731
    upload.upload(bind(preview_upload, assistant), [upload], previewed, api_visibility="private").then(
        bind(version_target, assistant), [upload], [meta_supersedes], api_visibility="private")
    upload.clear(_no_preview, None, previewed, api_visibility="private").then(
        no_target, None, [meta_supersedes], api_visibility="private")
    ingest_btn.click(bind(do_ingest, assistant),
                     [upload, meta_title, meta_city, meta_number, meta_date, meta_status, meta_supersedes],
                     [library_msg, *lists, *form], api_visibility="private").then(
        no_target, None, [meta_supersedes], api_visibility="private")
    opener = bind(open_document, assistant)
    open_btn.click(opener, [doc_pick], [doc_view], api_visibility="private")
    doc_pick.input(opener, [doc_pick], [doc_view], api_visibility="private")
    doc_pick.change(bind(version_choices, assistant), [doc_pick], [other_version], api_visibility="private")
    diff_btn.click(bind(show_diff, assistant), [doc_pick, other_version], [diff_view], api_visibility="private")
    table.select(bind(select_row, assistant), [table], [doc_pick, doc_view], api_visibility="private")
    remove_btn.click(bind(do_remove, assistant), [doc_pick, confirm],
                     [library_msg, confirm, doc_view, *lists, *form], api_visibility="private")
    demo.load(bind(refresh, assistant), None, lists, api_visibility="private")
    return LibraryTab(table, doc_pick, doc_view)
