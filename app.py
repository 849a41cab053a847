"""Gradio web app: a chat that answers with the cited clauses under each answer.

Run `python app.py` (or `policy-assistant serve`). Binds 127.0.0.1 unless ASSISTANT_HOST says
otherwise; ASSISTANT_AUTH=user:password turns on login."""
from __future__ import annotations

import os

from assistant import config  # noqa: F401  (GRADIO_ANALYTICS_ENABLED=False before gradio loads)

import gradio as gr

from assistant.api import Assistant
from assistant.errors import AssistantError
from assistant.render import answer_markdown, inert

EXAMPLES = [
    "长沙集团化办学的合作期限是多久？",
    "我们学校加入集团五年了，能提前退出吗？",
    "青岛成员校退出集团需要谁批准？",
    "中原区要求教育集团建立哪些“五个一”制度？",
    "南昌城乡发展共同体每学期开展多少次联合教研？",
]


def build_app(assistant: Assistant) -> gr.Blocks:
    def respond(message: str, history, cities: list[str]):
        try:
            return answer_markdown(assistant.ask(message, cities=cities or None))
        except AssistantError as exc:
            return f"**提示**：{inert(str(exc))}"

    with gr.Blocks(title="集团化办学政策助手") as demo:
        gr.Markdown("## 集团化办学政策助手\n按城市检索集团化办学政策条款，回答均引用原文出处。")
        cities = gr.CheckboxGroup(choices=assistant.cities, label="限定城市（可多选，不选则自动识别）")
        gr.ChatInterface(
            respond, additional_inputs=[cities], examples=[[e, []] for e in EXAMPLES],
            chatbot=gr.Chatbot(label="问答", height=520, sanitize_html=True),
            textbox=gr.Textbox(placeholder="请输入问题，例如：成员校能提前退出集团吗？", submit_btn="提问"),
            api_name="ask", cache_examples=False,
        )
    return demo


def _auth():
    value = os.environ.get("ASSISTANT_AUTH", "")
    if ":" in value:
        user, password = value.split(":", 1)
        return [(user, password)]
    return None


def main(host: str | None = None, port: int | None = None) -> None:
    assistant = Assistant()
    demo = build_app(assistant)
    demo.queue(default_concurrency_limit=8).launch(
        server_name=host or os.environ.get("ASSISTANT_HOST", "127.0.0.1"),
        server_port=port or int(os.environ.get("ASSISTANT_PORT", "7860")),
        auth=_auth(), show_error=False, footer_links=[], max_file_size="20mb")


if __name__ == "__main__":
    main()
