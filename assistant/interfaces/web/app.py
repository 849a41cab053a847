"""Gradio web app: 问答 (chat with citation cards), 对比, 章程, 文档库, 评测 — one module per tab.

Run `policy-assistant-web`, `policy-assistant serve` or `python app.py`. Binds 127.0.0.1 unless
ASSISTANT_HOST says otherwise; ASSISTANT_AUTH=user:password turns on login. The same server carries the
programs' interfaces (assistant/interfaces/http: /api/v1, /v1, /mcp). The HTML comes from views.py,
where every piece of document, model and user text is escaped."""
from __future__ import annotations

from pathlib import Path

from assistant import config  # noqa: F401  (GRADIO_ANALYTICS_ENABLED=False before gradio loads)

import gradio as gr

from assistant.interfaces import http
from assistant.interfaces.facade import Assistant
from assistant.interfaces.web import chat, charter, compare, evaluation, library, views
from assistant.interfaces.web.chat import chat_reply  # noqa: F401  (the chat turn, for tests and embedding)
from assistant.interfaces.web.common import bind, Downloads
from assistant.interfaces.web.store import Store


def build_app(assistant: Assistant, store: Store | None = None) -> gr.Blocks:
    """The five tabs. `store` keeps conversations and feedback (default: Settings.data_dir/web/app.sqlite3)."""
    downloads = Downloads()
    store = store or Store(Path(assistant.settings.data_dir) / "web" / "app.sqlite3")
    with gr.Blocks(title="集团化办学政策助手") as demo:
        gr.HTML('<div class="pa-header"><h2>集团化办学政策助手</h2>'
                '<div class="pa-header-sub">按城市检索集团化办学政策条款，回答均逐字引用原文出处。</div></div>')
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


def main(host: str | None = None, port: int | None = None) -> None:
    assistant = Assistant().open()  # recovery and any index build happen here, before the first question
    settings = assistant.settings
    demo = build_app(assistant)
    demo.queue(default_concurrency_limit=8, max_size=256)
    server = http.create_server(assistant, host or settings.host)  # /api/v1, /v1 (OpenAI-compatible) and /mcp, beside the web page
    gr.mount_gradio_app(
        server, demo, path="/", server_name=host or settings.host, server_port=port or settings.port,
        auth=list(settings.auth) or None, show_error=False, footer_links=[], max_file_size="20mb",
        css=views.CSS, js=views.JS, theme=gr.themes.Soft())
    http.serve(server, host or settings.host, port or settings.port)


if __name__ == "__main__":
    main()
