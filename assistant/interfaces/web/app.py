"""Gradio web app: 问答 (chat with citation cards), 对比, 章程, 文档库, 评测.

Run `python app.py` (or `policy-assistant serve`). Binds 127.0.0.1 unless ASSISTANT_HOST says
otherwise; ASSISTANT_AUTH=user:password turns on login. The HTML comes from assistant/views.py, where
every piece of document, model and user text is escaped."""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from assistant import config  # noqa: F401  (GRADIO_ANALYTICS_ENABLED=False before gradio loads)

import gradio as gr

from assistant.interfaces.web import views
from assistant.interfaces.facade import Assistant
from assistant.retrieval.dialogue import Turn, resolve
from assistant.errors import AssistantError
from assistant.render.markdown import answer_markdown, inert
from assistant.domain.values import STATUS_LABELS, Answer
from assistant.domain.topics import TOPICS

log = logging.getLogger("assistant.app")

EXAMPLES = [
    "长沙集团化办学的合作期限是多久？",
    "我们学校加入集团五年了，能提前退出吗？",
    "青岛成员校退出集团需要谁批准？",
    "中原区要求教育集团建立哪些“五个一”制度？",
    "南昌城乡发展共同体每学期开展多少次联合教研？",
    "各地对成员校退出有什么不同规定？",
]
GROUP_TYPES = ["紧密型", "引领型", "项目型", "融合型", "聚合型", "联合型"]
AUTO_TYPE = "自动识别"
UPLOAD_TYPES = [".pdf", ".docx", ".txt", ".md"]
STATUS_BY_LABEL = {label: key for key, label in STATUS_LABELS.items()}
INTERNAL_ERROR = "处理时出现内部错误，请稍后重试；如果问题持续，请联系管理员查看服务日志。"


def _failure(exc: Exception) -> str:
    """A user-facing message for an exception: the Chinese text of an AssistantError, never a traceback."""
    if isinstance(exc, AssistantError):
        return str(exc)
    log.exception("web request failed")
    return INTERNAL_ERROR


class Downloads:
    """Files the app offers for download, in one private temporary directory."""

    def __init__(self, keep_seconds: float = 3600):
        self.dir = Path(tempfile.mkdtemp(prefix="policy-assistant-web-"))
        self.keep_seconds = keep_seconds

    def _folder(self) -> Path:
        cutoff = time.time() - self.keep_seconds
        for old in self.dir.iterdir():  # files offered more than an hour ago
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        folder = self.dir / uuid.uuid4().hex[:12]
        folder.mkdir()
        return folder

    def write(self, name: str, data: str | bytes) -> str:
        path = self._folder() / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8-sig" if name.endswith(".csv") else "utf-8")
        else:
            path.write_bytes(data)
        return str(path)

    def path(self, name: str) -> Path:
        return self._folder() / name


def chat_reply(assistant, message: str, history: list, cities: list[str] | None, previous: Turn | None):
    """One chat turn as a generator of (history, cleared textbox, remembered turn, plain answer): the question
    at once, a pending note, the streamed draft (LLM mode), then the answer with its citation cards."""
    history = list(history or [])
    message = (message or "").strip()
    if not message:
        yield history, "", previous, gr.skip()
        return
    shown = message if len(message) <= 2000 else message[:2000] + "……"
    history.append({"role": "user", "content": inert(shown)})
    try:
        turn = resolve(message, previous, assistant.cities, cities)
    except Exception as exc:  # noqa: BLE001
        history.append({"role": "assistant", "content": views.message_html(_failure(exc))})
        yield history, "", previous, ""
        return
    note = ""
    if turn.rewritten:
        note = f"按上文理解为：{turn.question}"
    elif turn.inherited:
        note = f"沿用上文的城市：{'、'.join(turn.cities)}"
    pending = views.message_html(f"{note}\n正在检索条款……" if note else "正在检索条款……", "note")
    history.append({"role": "assistant", "content": pending})
    yield history, "", previous, gr.skip()
    scope = list(turn.cities) if (cities or turn.rewritten or turn.inherited) else None
    key = uuid.uuid4().hex[:8]
    draft = ""
    try:
        for item in assistant.ask_stream(turn.question, cities=scope):
            if isinstance(item, Answer):
                history[-1] = {"role": "assistant", "content": views.answer_html(item, key, note)}
                remembered = Turn(turn.question, item.cities or turn.cities)
                yield history, "", remembered, views.answer_plain(item)
                return
            draft += item
            history[-1] = {"role": "assistant",
                           "content": views.message_html(draft + "\n⏳ 正在生成，完成后将逐条核对引用……", "note")}
            yield history, "", previous, gr.skip()
    except Exception as exc:  # noqa: BLE001
        history[-1] = {"role": "assistant", "content": views.message_html(_failure(exc))}
        yield history, "", previous, ""



def build_app(assistant: Assistant) -> gr.Blocks:
    downloads = Downloads()

    # ------------------------------------------------------------ 问答
    def api_ask(message: str, cities: list[str] | None = None) -> str:
        """One question, answered as Markdown with the cited clauses (the `/ask` API)."""
        try:
            return answer_markdown(assistant.ask(message, cities=cities or None))
        except Exception as exc:  # noqa: BLE001 — shown as a message, never a traceback
            return f"**提示**：{inert(_failure(exc))}"

    def chat(message: str, history: list, cities: list[str], previous: Turn | None):
        yield from chat_reply(assistant, message, history, cities, previous)

    def clear_chat():
        return [], "", None, ""

    # ------------------------------------------------------------ 对比
    topic_labels = [t.label for t in TOPICS]

    def run_compare(topic: str, question: str, cities: list[str]):
        text = (question or "").strip() or (topic or "").strip()
        if not text:
            return views.message_html("请选择一个主题或输入要对比的问题。"), gr.skip(), gr.skip()
        if cities is not None and len(cities) == 1:
            return views.message_html("请至少选择两个城市进行对比（不选则对比全部城市）。"), gr.skip(), gr.skip()
        try:
            comparison = assistant.compare(text, cities=cities or None)
        except Exception as exc:  # noqa: BLE001
            return views.message_html(_failure(exc)), gr.skip(), gr.skip()
        return (views.comparison_html(comparison), *_export_buttons("对比", comparison))

    def run_matrix(cities: list[str], progress=gr.Progress()):
        progress(0, desc="正在逐个主题检索……")
        try:
            matrix = assistant.compare_matrix(cities=cities or None)
        except Exception as exc:  # noqa: BLE001
            return views.message_html(_failure(exc)), gr.skip(), gr.skip()
        return (views.matrix_html(matrix), *_export_buttons("主题总览", matrix))

    def _export_buttons(name: str, table) -> tuple:
        """Markdown and CSV downloads of a comparison or the topic overview."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        md = downloads.write(f"{name}-{stamp}.md", table.to_markdown())
        csv = downloads.write(f"{name}-{stamp}.csv", table.to_csv())
        return gr.DownloadButton(value=md, visible=True), gr.DownloadButton(value=csv, visible=True)

    # ------------------------------------------------------------ 章程
    def load_draft(file):
        if not file:
            return gr.skip(), ""
        from assistant.charter.io import read_draft

        try:
            return read_draft(file), ""
        except Exception as exc:  # noqa: BLE001
            return gr.skip(), views.message_html(_failure(exc))

    def run_check(text: str, city: str, group_type: str):
        if not (text or "").strip():
            return views.message_html("请粘贴章程草案全文，或上传 TXT/MD/DOCX 文件。"), gr.skip()
        if not city:
            return views.message_html("请选择章程适用的城市。"), gr.skip()
        try:
            report = assistant.check_charter(text, city, None if group_type in (None, "", AUTO_TYPE) else group_type)
        except Exception as exc:  # noqa: BLE001
            return views.message_html(_failure(exc)), gr.skip()
        return views.charter_html(report), ""

    def run_skeleton(city: str, group_type: str):
        if not city:
            return views.message_html("请选择章程适用的城市。"), gr.skip(), gr.skip(), gr.skip()
        from assistant.charter.io import write_skeleton

        try:
            skeleton = assistant.charter_skeleton(city, None if group_type in (None, "", AUTO_TYPE) else group_type)
            name = f"章程框架-{skeleton.city}{'-' + skeleton.group_type if skeleton.group_type else ''}"
            docx = write_skeleton(skeleton, downloads.path(f"{name}.docx"))
            md = downloads.write(f"{name}.md", skeleton.to_markdown())
        except Exception as exc:  # noqa: BLE001
            return views.message_html(_failure(exc)), gr.skip(), gr.skip(), gr.skip()
        # Skeleton.to_markdown() passes every text through render.inert
        return ("", skeleton.to_markdown(), gr.DownloadButton(value=str(docx), visible=True),
                gr.DownloadButton(value=md, visible=True))

    # ------------------------------------------------------------ 文档库
    def doc_choices():
        return [(f"{d.title}（{d.city}）", d.doc_id) for d in assistant.list_documents()]

    def library_state():
        docs = assistant.list_documents()
        return (gr.Dataframe(value=views.document_rows(docs)),
                gr.Dropdown(choices=[(f"{d.title}（{d.city}）", d.doc_id) for d in docs], value=None))

    def open_document(doc_id: str):
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
            return views.message_html(_failure(exc))

    def select_row(evt: gr.SelectData, table):
        try:
            row = evt.index[0]
            doc_id = table.iloc[row, 0] if hasattr(table, "iloc") else table[row][0]
        except Exception:  # noqa: BLE001
            return gr.skip(), gr.skip()
        return doc_id, open_document(doc_id)

    def preview_upload(file):
        empty = ("", gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.Button(interactive=False))
        if not file:
            return empty
        try:
            p = assistant.preview(file, filename=Path(file).name)
        except Exception as exc:  # noqa: BLE001
            return (views.message_html(_failure(exc)),) + empty[1:]
        m = p.metadata
        return (views.preview_html(p), m.title or "", m.city or None, m.doc_number or "", m.date or "",
                STATUS_LABELS.get(m.status, STATUS_LABELS["official"]), gr.Button(interactive=p.action != "unchanged"))

    def do_ingest(file, title, city, doc_number, date, status, progress=gr.Progress()):
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
            return views.message_html(_failure(exc)), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        actions = {"added": "已导入", "replaced": "已替换", "updated": "已更新", "unchanged": "文档库中已有该文件，未做更改"}
        lines = [f"{actions.get(report.action, report.action)}：{report.title}（{report.city}，{report.clauses} 个条款，"
                 f"用时 {report.seconds:.1f} 秒）", *report.warnings]
        table, dropdown = library_state()
        return (views.message_html("\n".join(lines), "ok"), table, dropdown, *city_lists())

    def city_lists():
        """The city choices of the chat filter, the comparison and the charter tab, after the corpus changed."""
        cities = assistant.cities
        return (gr.CheckboxGroup(choices=cities), gr.CheckboxGroup(choices=cities, value=cities),
                gr.Dropdown(choices=cities))

    def do_remove(doc_id: str, confirmed: bool, progress=gr.Progress()):
        unchanged = (gr.skip(),) * 7
        if not doc_id:
            return views.message_html("请先选择一个文档。"), *unchanged
        if not confirmed:
            return views.message_html("请先勾选“确认删除”。"), *unchanged
        progress(0, desc="正在删除并更新索引……")
        try:
            report = assistant.remove_document(doc_id)
        except Exception as exc:  # noqa: BLE001
            return views.message_html(_failure(exc)), *unchanged
        table, dropdown = library_state()
        return (views.message_html(f"已删除：{report.title}（移除 {report.removed} 个条款）", "ok"), table, dropdown,
                False, "", *city_lists())

    # ------------------------------------------------------------ 评测
    def run_evaluation(progress=gr.Progress()):
        from assistant.evaluation.run import load_gold, run_eval
        from assistant.evaluation.report import comparison_table, write_chart

        try:
            gold = load_gold(assistant.settings.eval_gold)
            progress((0, len(gold)), desc="正在评测", unit="题")
            run = run_eval(assistant, gold, naive=False,
                           progress=lambda done, total: progress((done, total), desc="正在评测", unit="题"))
            chart = downloads.path("chart.png")
            write_chart(run, chart)
        except Exception as exc:  # noqa: BLE001
            return views.message_html(_failure(exc)), None
        text = (f"共 {len(run.results)} 题，用时 {run.seconds:.0f} 秒（模式：{run.config.get('mode')}）\n\n"
                + comparison_table(run, None))
        return text, str(chart)

    # ------------------------------------------------------------ layout
    cities_now = assistant.cities
    with gr.Blocks(title="集团化办学政策助手") as demo:
        gr.HTML('<div class="pa-header"><h2 style="margin:.2em 0">集团化办学政策助手</h2>'
                '<div style="color:#6b7280">按城市检索集团化办学政策条款，回答均逐字引用原文出处。</div></div>')
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                chat_cities = gr.CheckboxGroup(choices=cities_now, label="限定城市（可多选，不选则按问题自动识别）",
                                               elem_id="chat-cities")
                chatbot = gr.Chatbot(label="问答", height=560, sanitize_html=True, elem_id="chatbot", buttons=[],
                                     placeholder="请输入问题，回答将附带可点击展开的引用条款。")
                with gr.Row():
                    box = gr.Textbox(placeholder="请输入问题，例如：成员校能提前退出集团吗？", show_label=False,
                                     scale=6, elem_id="question", max_lines=4)
                    send = gr.Button("提问", variant="primary", scale=1, min_width=80, elem_id="ask-button")
                gr.Examples(EXAMPLES, inputs=[box], label="示例问题")
                with gr.Row():
                    copy = gr.Button("复制答案（含引用）", size="sm", elem_id="copy-answer")
                    clear = gr.Button("新对话", size="sm")
                with gr.Accordion("答案纯文本（含引用）", open=False):
                    plain = gr.Textbox(show_label=False, lines=6, interactive=False, buttons=["copy"],
                                       elem_id="answer-plain")
                previous = gr.State(None)
                outputs = [chatbot, box, previous, plain]
                send.click(chat, [box, chatbot, chat_cities, previous], outputs, api_visibility="private")
                box.submit(chat, [box, chatbot, chat_cities, previous], outputs, api_visibility="private")
                clear.click(clear_chat, None, outputs, api_visibility="private")
                copy.click(None, [plain], None, js="(t) => { if (t && navigator.clipboard) "
                           "navigator.clipboard.writeText(t); return []; }")
            with gr.Tab("对比", id="compare"):
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
                compare_btn.click(run_compare, [topic, compare_q, compare_cities], [compare_out, md_btn, csv_btn],
                                  api_visibility="private")
                compare_q.submit(run_compare, [topic, compare_q, compare_cities], [compare_out, md_btn, csv_btn],
                                 api_visibility="private")
                matrix_btn.click(run_matrix, [compare_cities], [compare_out, md_btn, csv_btn],
                                 api_visibility="private")
            with gr.Tab("章程", id="charter"):
                with gr.Row():
                    with gr.Column(scale=3):
                        draft = gr.Textbox(label="章程草案", lines=14, max_lines=30, elem_id="charter-draft",
                                           placeholder="粘贴章程草案全文，或在右侧上传文件")
                    with gr.Column(scale=2):
                        draft_file = gr.File(label="上传草案（TXT/MD/DOCX）", file_types=[".txt", ".md", ".docx"],
                                             type="filepath")
                        charter_city = gr.Dropdown(choices=cities_now, value=None, label="城市", elem_id="charter-city")
                        charter_type = gr.Dropdown(choices=[AUTO_TYPE] + GROUP_TYPES, value=AUTO_TYPE,
                                                   label="集团类型")
                        check_btn = gr.Button("检查章程", variant="primary", elem_id="charter-check")
                        skeleton_btn = gr.Button("生成合规章程框架")
                        docx_btn = gr.DownloadButton("下载框架（DOCX）", visible=False, size="sm")
                        skel_md_btn = gr.DownloadButton("下载框架（Markdown）", visible=False, size="sm")
                charter_out = gr.HTML(elem_id="charter-result")
                skeleton_out = gr.Markdown(elem_id="skeleton-result")
                draft_file.upload(load_draft, [draft_file], [draft, charter_out], api_visibility="private")
                check_btn.click(run_check, [draft, charter_city, charter_type], [charter_out, skeleton_out],
                                api_visibility="private")
                skeleton_btn.click(run_skeleton, [charter_city, charter_type], [charter_out, skeleton_out, docx_btn, skel_md_btn],
                                   api_visibility="private")
            with gr.Tab("文档库", id="library"):
                docs = assistant.list_documents()
                table = gr.Dataframe(value=views.document_rows(docs), headers=views.DOC_COLUMNS,
                                     interactive=False, wrap=True, elem_id="doc-table", label="文档列表")
                with gr.Row():
                    doc_pick = gr.Dropdown(choices=doc_choices(), value=None, label="选择文档", scale=4, elem_id="doc-pick")
                    open_btn = gr.Button("打开阅读", scale=1, elem_id="open-button")
                    confirm = gr.Checkbox(label="确认删除", value=False, scale=1, elem_id="remove-confirm")
                    remove_btn = gr.Button("删除", variant="stop", scale=1, elem_id="remove-button")
                with gr.Accordion("上传新文档（PDF/DOCX/TXT/MD，20 MB 以内）", open=True):
                    upload = gr.File(label="选择文件", file_types=UPLOAD_TYPES, type="filepath", elem_id="doc-upload")
                    upload_info = gr.HTML()
                    with gr.Row():
                        meta_title = gr.Textbox(label="标题", scale=3)
                        meta_city = gr.Dropdown(choices=cities_now, value=None, allow_custom_value=True,
                                                label="城市", scale=1, elem_id="meta-city")
                    with gr.Row():
                        meta_number = gr.Textbox(label="文号")
                        meta_date = gr.Textbox(label="日期")
                        meta_status = gr.Dropdown(choices=list(STATUS_LABELS.values()),
                                                  value=STATUS_LABELS["official"], label="状态")
                    ingest_btn = gr.Button("确认导入", variant="primary", interactive=False, elem_id="ingest-button")
                library_msg = gr.HTML(elem_id="library-message")
                doc_view = gr.HTML(elem_id="doc-view")
                upload.upload(preview_upload, [upload],
                              [upload_info, meta_title, meta_city, meta_number, meta_date, meta_status, ingest_btn],
                              api_visibility="private")
                ingest_btn.click(do_ingest, [upload, meta_title, meta_city, meta_number, meta_date, meta_status],
                                 [library_msg, table, doc_pick, chat_cities, compare_cities, charter_city],
                                 api_visibility="private")
                open_btn.click(open_document, [doc_pick], [doc_view], api_visibility="private")
                doc_pick.input(open_document, [doc_pick], [doc_view], api_visibility="private")
                table.select(select_row, [table], [doc_pick, doc_view], api_visibility="private")
                remove_btn.click(do_remove, [doc_pick, confirm],
                                 [library_msg, table, doc_pick, confirm, doc_view, chat_cities, compare_cities,
                                  charter_city], api_visibility="private")
            with gr.Tab("评测", id="eval"):
                gr.Markdown(f"在标注集（{assistant.settings.eval_gold.name}）上评测检索与回答质量，约需数分钟。")
                eval_btn = gr.Button("运行评测", variant="primary", elem_id="eval-button")
                eval_table = gr.Markdown(elem_id="eval-metrics")
                eval_chart = gr.Image(label="评测图表", type="filepath", interactive=False, buttons=["download"],
                                      elem_id="eval-chart")
                eval_btn.click(run_evaluation, None, [eval_table, eval_chart], api_visibility="private",
                               concurrency_limit=1)
        # the programmatic API: (message, cities) → Markdown answer
        gr.api(api_ask, api_name="ask")
    return demo


def main(host: str | None = None, port: int | None = None) -> None:
    assistant = Assistant()
    settings = assistant.settings
    demo = build_app(assistant)
    demo.queue(default_concurrency_limit=8, max_size=256).launch(
        server_name=host or settings.host, server_port=port or settings.port,
        auth=list(settings.auth) or None, show_error=False, footer_links=[], max_file_size="20mb",
        css=views.CSS, js=views.JS, theme=gr.themes.Soft())


if __name__ == "__main__":
    main()
