"""Gradio web app: 问答 (chat with citation cards), 对比, 章程, 文档库, 评测 — one module per tab.

Run `policy-assistant-web`, `policy-assistant serve` or `python app.py`. Binds 127.0.0.1 unless
ASSISTANT_HOST says otherwise; ASSISTANT_AUTH=user:password turns on login. The HTML comes from views.py,
where every piece of document, model and user text is escaped."""
from __future__ import annotations


import logging
import sys

from assistant import config  # noqa: F401  (GRADIO_ANALYTICS_ENABLED=False before gradio loads)

import gradio as gr

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.interfaces.facade import Assistant
from assistant.interfaces.web import chat, charter, compare, evaluation, guard, library, views
from assistant.interfaces.web.chat import chat_reply  # noqa: F401  (the chat turn, for tests and embedding)
from assistant.interfaces.web.common import bind, Downloads


def build_app(assistant: Assistant) -> gr.Blocks:
    downloads = Downloads()
    keep = assistant.settings.upload_keep_seconds  # uploads never used (or abandoned) go after this long
    with gr.Blocks(title="集团化办学政策助手", delete_cache=(max(1, min(300, keep // 2)), keep)) as demo:
        gr.HTML('<div class="pa-header"><h2 style="margin:.2em 0">集团化办学政策助手</h2>'
                '<div style="color:#6b7280">按城市检索集团化办学政策条款，回答均逐字引用原文出处。</div></div>')
        for note in assistant.notes:  # what start-up had to say (a read-only index, an update that failed)
            gr.HTML(views.message_html(note, "note"), elem_classes=["pa-state"])
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                chat_cities = chat.build(assistant)
            with gr.Tab("对比", id="compare"):
                compare_cities = compare.build(assistant, downloads)
            with gr.Tab("章程", id="charter"):
                charter_city = charter.build(assistant, downloads)
            with gr.Tab("文档库", id="library"):
                library.build(assistant, [chat_cities, compare_cities, charter_city])
            with gr.Tab("评测", id="eval"):
                evaluation.build(assistant, downloads)
        # the programmatic API: (message, cities) → Markdown answer
        gr.api(bind(chat.api_ask, assistant), api_name="ask")
    return demo


def main(host: str | None = None, port: int | None = None) -> None:
    """Start the web app. Settings are checked first (a malformed ASSISTANT_AUTH stops here with one line);
    recovery after an interrupted write and any index build run before the server answers, saying what they
    do on stderr (恢复中…, 恢复完成…, or that the index is read-only)."""
    assistant = start(host, port)
    settings = assistant.settings
    demo = build_app(assistant)
    demo.queue(default_concurrency_limit=8, max_size=256).launch(
        server_name=host or settings.host, server_port=port or settings.port,
        auth=list(settings.auth) or None, show_error=False, footer_links=[], max_file_size="20mb",
        css=views.CSS, js=views.JS, theme=gr.themes.Soft(), app_kwargs=guard.app_kwargs(settings))


def start(host: str | None = None, port: int | None = None) -> Assistant:
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
