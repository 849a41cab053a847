"""问答: the chat turn (question → pending note → streamed draft → answer with citation cards) and `/ask`."""
from __future__ import annotations

import uuid

import gradio as gr

from assistant.domain.markup import inert
from assistant.domain.values import Answer
from assistant.interfaces.web import views
from assistant.interfaces.web.common import bind, failure
from assistant.render.markdown import answer_markdown

EXAMPLES = [
    "长沙集团化办学的合作期限是多久？",
    "我们学校加入集团五年了，能提前退出吗？",
    "青岛成员校退出集团需要谁批准？",
    "中原区要求教育集团建立哪些“五个一”制度？",
    "南昌城乡发展共同体每学期开展多少次联合教研？",
    "各地对成员校退出有什么不同规定？",
]


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
        turn = assistant.follow_up(message, previous, cities)
    except Exception as exc:  # noqa: BLE001
        history.append({"role": "assistant", "content": views.message_html(failure(exc))})
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
                remembered = turn.answered(item.cities)
                yield history, "", remembered, views.answer_plain(item)
                return
            draft += item
            history[-1] = {"role": "assistant",
                           "content": views.message_html(draft + "\n⏳ 正在生成，完成后将逐条核对引用……", "note")}
            yield history, "", previous, gr.skip()
    except Exception as exc:  # noqa: BLE001
        history[-1] = {"role": "assistant", "content": views.message_html(failure(exc))}
        yield history, "", previous, ""


def api_ask(assistant, message: str, cities: list[str] | None = None) -> str:
    """One question, answered as Markdown with the cited clauses (the `/ask` API)."""
    try:
        return answer_markdown(assistant.ask(message, cities=cities or None))
    except Exception as exc:  # noqa: BLE001 — shown as a message, never a traceback
        return f"**提示**：{inert(failure(exc))}"


def clear_chat():
    return [], "", None, ""


def build(assistant) -> gr.CheckboxGroup:
    """The tab's layout and wiring; returns the city filter (other tabs update its choices)."""
    chat_cities = gr.CheckboxGroup(choices=assistant.cities, label="限定城市（可多选，不选则按问题自动识别）",
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
        plain = gr.Textbox(show_label=False, lines=6, interactive=False, buttons=["copy"], elem_id="answer-plain")
    previous = gr.State(None)
    outputs = [chatbot, box, previous, plain]
    reply = bind(chat_reply, assistant)
    send.click(reply, [box, chatbot, chat_cities, previous], outputs, api_visibility="private")
    box.submit(reply, [box, chatbot, chat_cities, previous], outputs, api_visibility="private")
    clear.click(clear_chat, None, outputs, api_visibility="private")
    copy.click(None, [plain], None, js="(t) => { if (t && navigator.clipboard) "
               "navigator.clipboard.writeText(t); return []; }")
    return chat_cities
