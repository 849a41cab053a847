"""Gradio web app: 问答 (chat with citation cards), 对比, 章程, 文档库, 评测 — one module per tab.

Run `policy-assistant-web`, `policy-assistant serve` or `python app.py`. Binds 127.0.0.1 unless
ASSISTANT_HOST says otherwise; ASSISTANT_AUTH=user:password turns on login. The same server carries the
programs' interfaces (assistant/interfaces/http: /api/v1, /v1, /mcp). The HTML comes from views.py,
where every piece of document, model and user text is escaped."""
from __future__ import annotations

import logging
import sqlite3
import sys
import tempfile
from pathlib import Path

from assistant import config  # noqa: F401  (GRADIO_ANALYTICS_ENABLED=False before gradio loads)

import gradio as gr

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.files import storage_problem
from assistant.interfaces import http
from assistant.interfaces.facade import Assistant
from assistant.interfaces.web import chat, charter, compare, evaluation, guard, library, views
from assistant.interfaces.web.chat import chat_reply  # noqa: F401  (the chat turn, for tests and embedding)
from assistant.interfaces.web.common import bind, Downloads
from assistant.interfaces.web.store import Store


def build_app(assistant: Assistant, store: Store | None = None) -> gr.Blocks:
    """The five tabs. `store` keeps conversations and feedback (default: Settings.data_dir/web/app.sqlite3)."""
    downloads = Downloads()
    store = store or open_store(Path(assistant.settings.data_dir) / "web" / "app.sqlite3")
    # uploads never used (or abandoned) go after this long
    keep = getattr(assistant.settings, "upload_keep_seconds", Settings.upload_keep_seconds)
    with gr.Blocks(title="集团化办学政策助手", delete_cache=(max(1, min(300, keep // 2)), keep)) as demo:
        gr.HTML('<div class="pa-header"><h2>集团化办学政策助手</h2>'
                '<div class="pa-header-sub">按城市检索集团化办学政策条款，回答均逐字引用原文出处。</div></div>')
        for note in getattr(assistant, "notes", ()):  # what start-up had to say (a read-only index, an update that failed)
            gr.HTML(views.message_html(note, "note"), elem_classes=["pa-state"])
        with gr.Tabs() as tabs:
            with gr.Tab("问答", id="chat"):
                chat_tab = chat.build(assistant, store, demo)
            with gr.Tab("对比", id="compare"):
                compare_cities = compare.build(assistant, downloads)
            with gr.Tab("章程", id="charter"):
                charter_city = charter.build(assistant, downloads)
            with gr.Tab("文档库", id="library"):
                library_tab = library.build(assistant, [chat_tab.cities, compare_cities, charter_city], demo)
            with gr.Tab("评测", id="eval"):
                evaluation.build(assistant, store, downloads, demo)
        library.build_link(assistant, tabs, library_tab)  # citation cards → the clause in the reader
        # the programmatic API: (message, cities) → Markdown answer
        gr.api(bind(chat.api_ask, assistant), api_name="ask")
    return demo


def open_store(path: Path) -> Store:
    """The conversation store; on a data directory that cannot be written (a read-only deployment) one in a
    private temporary directory instead, said once: conversations then last until the server stops."""
    try:
        return Store(path)
    except (OSError, sqlite3.Error) as exc:
        fallback = Path(tempfile.mkdtemp(prefix="policy-assistant-data-")) / "app.sqlite3"
        print(f"数据目录 {path.parent.parent} 无法写入（{storage_problem(exc) or exc.__class__.__name__}）："
              "对话和反馈暂存在临时目录，服务停止后不保留。", file=sys.stderr, flush=True)
        return Store(fallback)


def main(host: str | None = None, port: int | None = None) -> None:
    """Start the web app. Settings are checked first (a malformed ASSISTANT_AUTH stops here with one line);
    recovery after an interrupted write and any index build run before the server answers, saying what they
    do on stderr (恢复中…, 恢复完成…, or that the index is read-only)."""
    assistant = start()
    settings = assistant.settings
    demo = build_app(assistant)
    demo.queue(default_concurrency_limit=8, max_size=256)
    server = http.create_server(assistant, host or settings.host)  # /api/v1, /v1 (OpenAI-compatible) and /mcp, beside the web page
    gr.mount_gradio_app(
        server, demo, path="/", server_name=host or settings.host, server_port=port or settings.port,
        auth=list(settings.auth) or None, show_error=False, footer_links=[], max_file_size="20mb",
        css=views.CSS, js=views.JS, theme=gr.themes.Soft(),
        app_kwargs=guard.app_kwargs(settings))  # the session for every route but the login page; call bodies checked
    guard.mounted(server)
    http.serve(server, host or settings.host, port or settings.port)


def start() -> Assistant:
    """The opened assistant, or exit with one Chinese line (status 2) when settings or the index are unusable."""
    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def progress(done: int, total: int) -> None:
        if done == total or done % 256 == 0:
            say(f"正在嵌入条款 {done}/{total}")

    # warnings (failed logins, a damaged vector store) go to the console with the time they happened
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        return Assistant(settings=settings).open(progress=progress, notify=say)
    except AssistantError as exc:
        say(f"错误：{exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
