"""问答: the chat turn (question → pending note → streamed draft → answer with citation cards), the user's saved
conversations (list, reopen, rename, delete), 👍/👎 feedback with reasons and a comment, and `/ask`.

Each turn puts exactly two messages in the chat (the question, then the answer or an error) and is saved as one
row, so message 2n+1 of the chat is turn n of the stored conversation (what a 👍/👎 on it refers to)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from types import SimpleNamespace

import gradio as gr

from assistant.domain.markup import inert
from assistant.domain.values import Answer
from assistant.interfaces.web import views
from assistant.interfaces.web.common import bind, browser_identity, failure, owner_of
from assistant.interfaces.web.store import REASONS, ConversationError, Store
from assistant.render.markdown import answer_markdown

EXAMPLES = [
    "长沙集团化办学的合作期限是多久？",
    "我们学校加入集团五年了，能提前退出吗？",
    "青岛成员校退出集团需要谁批准？",
    "中原区要求教育集团建立哪些“五个一”制度？",
    "南昌城乡发展共同体每学期开展多少次联合教研？",
    "各地对成员校退出有什么不同规定？",
]
SEARCHING = "正在检索条款……"
SHOWN_CHARS = 2000  # of a question, in the chat (the facade refuses long ones with a message)
NOT_SAVED = "对话未能保存：页面尚未完成加载，请刷新后重试。"
NOT_AN_ANSWER = "这条消息不是回答，无法评价。"
# what the browser remembers when no conversation is open (Gradio's BrowserState does not store empty values)
NO_CONVERSATION = "-"


def _pending(text: str) -> dict:
    return {"role": "assistant", "content": views.pending_html(text)}


def _listing(store: Store, owner: str | None, current: str | None):
    if owner is None:
        return gr.skip()
    return gr.Radio(choices=[(c.title, c.id) for c in store.conversations(owner)], value=current)


def _save(store: Store, owner: str | None, conversation: str | None, message: str, note: str = "",
          answer: Answer | None = None, error: str | None = None) -> str | None:
    """Store the turn (starting a conversation named after its first question); the conversation's id."""
    if owner is None:
        return conversation
    try:
        if conversation is None:
            conversation = store.create(owner, message)
        store.add_turn(owner, conversation, message, note, answer, error)
    except ConversationError:  # deleted in another tab meanwhile: this turn starts a new one
        conversation = store.create(owner, message)
        store.add_turn(owner, conversation, message, note, answer, error)
    return conversation


def chat_reply(assistant, store: Store, message: str, history: list, cities: list[str] | None, previous,
               conversation: str | None, browser_id: str | None, only_place: bool = False,
               request: gr.Request = None, as_of: str | None = None, include_outdated: bool = False):
    """One chat turn as a generator of (history, cleared textbox, remembered turn, plain answer, conversation,
    conversation list, conversation remembered by the browser, browser id): the question and a note at once,
    the streamed draft (LLM mode), then the answer with its citation cards, saved to the conversation."""
    history = list(history or [])
    message = (message or "").strip()
    if not message:
        yield history, "", previous, gr.skip(), conversation, gr.skip(), gr.skip(), gr.skip()
        return
    browser_id = browser_identity(request, browser_id, store.secret)
    owner = owner_of(request, browser_id)
    shown = message if len(message) <= SHOWN_CHARS else message[:SHOWN_CHARS] + "……"
    history += [{"role": "user", "content": inert(shown)}, _pending(SEARCHING)]
    yield history, "", previous, gr.skip(), conversation, gr.skip(), gr.skip(), browser_id  # before anything is slow

    def finish(content: str, plain, remembered, note: str = "", answer: Answer | None = None,
               error: str | None = None):
        history[-1] = {"role": "assistant", "content": content}
        saved = _save(store, owner, conversation, message, note, answer, error)
        return history, "", remembered, plain, saved, _listing(store, owner, saved), saved or gr.skip(), gr.skip()

    try:
        turn = assistant.follow_up(message, previous, cities)
    except Exception as exc:  # noqa: BLE001
        yield finish(views.message_html(failure(exc)), "", previous, error=failure(exc))
        return
    note = ""
    if turn.rewritten:
        note = f"按上文理解为：{turn.question}"
    elif turn.inherited:
        note = f"沿用上文的城市：{'、'.join(turn.cities)}"
    if note:
        history[-1] = _pending(f"{note}\n{SEARCHING}")
        yield history, "", previous, gr.skip(), conversation, gr.skip(), gr.skip(), gr.skip()
    scope = list(turn.cities) if (cities or turn.rewritten or turn.inherited) else None
    key = uuid.uuid4().hex[:8]
    draft = ""
    try:
        versions = {"as_of": (as_of or "").strip() or None, "include_outdated": bool(include_outdated)}
        for item in assistant.ask_stream(turn.question, cities=scope, only_place=bool(only_place), **versions):
            if isinstance(item, Answer):
                yield finish(views.answer_html(item, key, note), views.answer_plain(item),
                             turn.answered(item.cities), note, answer=item)
                return
            draft += item
            history[-1] = _pending(draft + "\n正在生成，完成后将逐条核对引用……")
            yield history, "", previous, gr.skip(), conversation, gr.skip(), gr.skip(), gr.skip()
    except Exception as exc:  # noqa: BLE001
        yield finish(views.message_html(failure(exc)), "", previous, note, error=failure(exc))


def api_ask(assistant, message: str, cities: list[str] | None = None) -> str:
    """One question, answered as Markdown with the cited clauses (the `/ask` API)."""
    try:
        return answer_markdown(assistant.ask(message, cities=cities or None))
    except Exception as exc:  # noqa: BLE001 — shown as a message, never a traceback
        return f"**提示**：{inert(failure(exc))}"


# ---------------------------------------------------------------- conversations
def _history(store: Store, owner: str, conversation: str) -> tuple[list, str, Answer | None, list]:
    """The stored conversation as chat messages, the plain text and the answer of its last turn, and the
    👍/👎 already given (one entry per answer)."""
    history, plain, last = [], "", None
    ratings = store.ratings(owner, conversation)
    feedback = []
    for t in store.turns(owner, conversation):
        shown = t.message if len(t.message) <= SHOWN_CHARS else t.message[:SHOWN_CHARS] + "……"
        history.append({"role": "user", "content": inert(shown)})
        if t.answer is not None:
            content = views.answer_html(t.answer, f"{conversation[:6]}{t.seq}", t.note)
            plain, last = views.answer_plain(t.answer), t.answer
        else:
            content = views.message_html(t.error or "（无回答）")
        history.append({"role": "assistant", "content": content})
        feedback.append({"up": "Like", "down": "Dislike"}.get(ratings.get(t.seq)))
    return history, plain, last, feedback


def _reopen(assistant, store: Store, owner: str, conversation: str) -> tuple:
    """(chat, follow-up context, plain answer, title) of a saved conversation; ConversationError when the
    conversation is not this owner's."""
    history, plain, last, feedback = _history(store, owner, conversation)
    previous = assistant.resume(last.question, last.cities) if last is not None else None
    title = next((c.title for c in store.conversations(owner) if c.id == conversation), "")
    return gr.Chatbot(value=history, feedback_value=feedback), previous, plain, title


def open_conversation(assistant, store: Store, conversation: str | None, browser_id: str | None,
                      request: gr.Request = None):
    """Reopen a saved conversation: its turns, and the follow-up context of its last answer. Outputs: chat,
    context, plain answer, conversation, the browser's remembered conversation, title box, message, form."""
    owner = owner_of(request, browser_id)
    if not conversation or owner is None:
        return (gr.skip(),) * 6 + ("", gr.skip())
    try:
        chatbot, previous, plain, title = _reopen(assistant, store, owner, conversation)
    except ConversationError as exc:
        return (gr.skip(),) * 6 + (views.message_html(str(exc)), gr.skip())
    return chatbot, previous, plain, conversation, conversation, title, "", gr.Group(visible=False)


def new_conversation():
    """新对话 and the chat's trash button: an empty chat with no follow-up context (saved ones stay listed). The
    question box is left alone: the trash empties the chat at once, and a question typed meanwhile must stay."""
    return [], None, "", None, gr.Radio(value=None), NO_CONVERSATION, "", gr.Group(visible=False)


def rename_conversation(store: Store, conversation: str | None, title: str, browser_id: str | None,
                        request: gr.Request = None):
    owner = owner_of(request, browser_id)
    if not conversation or owner is None:
        return gr.skip(), views.message_html("请先打开一个对话。", "note")
    try:
        store.rename(owner, conversation, title)
    except ConversationError as exc:
        return gr.skip(), views.message_html(str(exc))
    return _listing(store, owner, conversation), views.message_html("已重命名。", "ok")


def delete_conversation(store: Store, conversation: str | None, browser_id: str | None, request: gr.Request = None):
    owner = owner_of(request, browser_id)
    if not conversation or owner is None:
        return (gr.skip(),) * 8 + (views.message_html("请先打开一个对话。", "note"),)
    try:
        store.delete(owner, conversation)
    except ConversationError as exc:
        return (gr.skip(),) * 8 + (views.message_html(str(exc)),)
    cleared = new_conversation()
    return (*cleared[:4], _listing(store, owner, None), *cleared[5:], views.message_html("已删除该对话。", "ok"))


def restore(assistant, store: Store, browser_id: str | None, current: str | None, request: gr.Request = None):
    """On page load: give a new browser its id, list its conversations, and reopen the one it was in."""
    browser_id = browser_identity(request, browser_id, store.secret)
    owner = owner_of(request, browser_id)
    if isinstance(current, str) and current != NO_CONVERSATION:
        try:
            chatbot, previous, plain, title = _reopen(assistant, store, owner, current)
            return browser_id, _listing(store, owner, current), chatbot, previous, plain, current, title
        except ConversationError:  # deleted meanwhile, or remembered under another login
            pass
    # nothing to reopen: leave the chat alone (a question may already be under way when this arrives)
    return browser_id, _listing(store, owner, None), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()


# ---------------------------------------------------------------- feedback
def rate_answer(assistant, store: Store, conversation: str | None, browser_id: str | None, evt: gr.LikeData,
                request: gr.Request = None):
    """👍/👎 on an answer (or taking it back): stored at once, then the reasons and comment form opens."""
    owner = owner_of(request, browser_id)
    index = evt.index if isinstance(evt.index, int) else evt.index[0]
    seq = index // 2
    rating = {True: "up", False: "down"}.get(evt.liked)
    hidden = gr.Group(visible=False)
    if index % 2 == 0:
        return hidden, None, views.message_html(NOT_AN_ANSWER, "note")
    if owner is None or not conversation:
        return hidden, None, views.message_html(NOT_SAVED)
    try:
        stored = store.rate(owner, conversation, seq, rating, assistant.corpus_hash())
    except ConversationError as exc:
        return hidden, None, views.message_html(str(exc))
    if not stored:
        return hidden, None, views.message_html(NOT_AN_ANSWER, "note")
    if rating is None:
        return hidden, None, views.message_html("已撤销评价。", "note")
    title = f"已记录“{'赞' if rating == 'up' else '踩'}”（第 {seq + 1} 问）。可选：补充原因和意见后提交。"
    return gr.Group(visible=True), seq, views.message_html(title, "ok")


def submit_feedback(store: Store, conversation: str | None, seq: int | None, reasons: list[str], comment: str,
                    browser_id: str | None, request: gr.Request = None):
    owner = owner_of(request, browser_id)
    if owner is None or not conversation or seq is None:
        return views.message_html("请先点击某条回答下方的“赞”或“踩”。", "note"), gr.skip(), gr.skip()
    try:
        cut = store.comment(owner, conversation, seq, reasons, comment)
    except ConversationError as exc:
        return views.message_html(str(exc)), gr.skip(), gr.skip()
    done = "感谢反馈，已保存。" + (f"\n{cut}" if cut else "")
    return views.message_html(done, "notice" if cut else "ok"), [], ""


# ---------------------------------------------------------------- layout
@dataclass(frozen=True)
class ChatTab:
    cities: gr.Dropdown  # the library refreshes its choices


def _chat_column() -> SimpleNamespace:
    with gr.Column(scale=4, min_width=320, elem_id="chat-col"):
        # a one-line picker however many cities the library holds: the question box stays in view
        cities = gr.Dropdown(choices=[], value=None, multiselect=True, elem_id="chat-cities",
                             label="限定城市（可多选，不选则按问题自动识别）")
        # autoscroll off: views.JS scrolls to the first line of a new answer, Gradio would show its last
        chatbot = gr.Chatbot(label="问答", height="calc(100dvh - 340px)", min_height=260, sanitize_html=True,
                             elem_id="chatbot", buttons=[], autoscroll=False, show_label=False, layout="panel",
                             placeholder="请输入问题，回答将附带可点击展开的引用条款。")
        with gr.Row(elem_id="question-row"):
            box = gr.Textbox(placeholder="请输入问题", show_label=False, scale=6, elem_id="question", max_lines=4,
                             min_width=160)
            send = gr.Button("提问", variant="primary", scale=1, min_width=64, elem_id="ask-button")
        feedback_msg = gr.HTML(elem_id="feedback-message")
        with gr.Group(visible=False, elem_id="feedback-panel") as panel:
            reasons = gr.CheckboxGroup(choices=list(REASONS), label="原因（可多选）", elem_id="feedback-reasons")
            comment = gr.Textbox(label="意见（可选）", lines=2, max_lines=6, elem_id="feedback-comment")
            submit = gr.Button("提交反馈", size="sm", elem_id="feedback-submit")
        gr.Examples(EXAMPLES, inputs=[box], label="示例问题")
        with gr.Row():
            copy = gr.Button("复制最新答案（含引用）", size="sm", elem_id="copy-answer")
            clear = gr.Button("新对话", size="sm", elem_id="new-chat-bottom")
        with gr.Accordion("答案纯文本（含引用）", open=False):
            plain = gr.Textbox(show_label=False, lines=6, interactive=False, buttons=["copy"], elem_id="answer-plain")
        # below the question box, folded: the first screen keeps the question box in view on a phone
        with gr.Accordion("范围、版本与日期（默认包括上级文件、按今天施行的版本回答）", open=False,
                          elem_id="version-options"):
            only_place = gr.Checkbox(False, label="只看本级文件（不含省级、国家级等上级文件）", elem_id="chat-only-place")
            with gr.Row():
                as_of = gr.Textbox(label="按该日期施行的版本回答（YYYY-MM-DD，可不填）", placeholder="如 2023-09-01",
                                   max_lines=1, scale=3, min_width=160, elem_id="chat-as-of")
                outdated = gr.Checkbox(label="也引用已修正、已废止等旧版本（引用处标明）", value=False, scale=2,
                                       min_width=160, elem_id="chat-outdated")
    return SimpleNamespace(cities=cities, only_place=only_place, chatbot=chatbot, box=box, send=send,
                           feedback_msg=feedback_msg,
                           panel=panel, reasons=reasons, comment=comment, submit=submit, copy=copy, clear=clear,
                           plain=plain, as_of=as_of, outdated=outdated)


def _conversation_column() -> SimpleNamespace:
    with gr.Column(scale=1, min_width=200, elem_id="conv-col"):  # below the chat on a phone (views.CSS)
        new = gr.Button("＋ 新对话", size="sm", elem_id="new-chat")
        listing = gr.Radio(choices=[], label="我的对话", elem_id="conv-list")
        with gr.Row():
            title = gr.Textbox(show_label=False, placeholder="对话名称", scale=3, min_width=100, elem_id="conv-title")
            rename = gr.Button("重命名", size="sm", scale=1, min_width=60, elem_id="conv-rename")
        delete = gr.Button("删除当前对话", size="sm", variant="stop", elem_id="conv-delete")
        message = gr.HTML(elem_id="conv-message")
    return SimpleNamespace(new=new, listing=listing, title=title, rename=rename, delete=delete, message=message)


def build(assistant, store: Store, demo: gr.Blocks) -> ChatTab:
    # what the browser keeps (its id, its open conversation), encrypted with a key that survives restarts
    browser_id = gr.BrowserState(None, storage_key="pa-browser", secret=store.secret)
    current = gr.BrowserState(None, storage_key="pa-conversation", secret=store.secret)
    with gr.Row(elem_id="chat-row", equal_height=False):
        ui = _chat_column()
        convs = _conversation_column()
    previous, conversation, rated = gr.State(None), gr.State(None), gr.State(None)
    private = {"api_visibility": "private"}

    ask_in = [ui.box, ui.chatbot, ui.cities, previous, conversation, browser_id, ui.only_place, ui.as_of, ui.outdated]
    ask_out = [ui.chatbot, ui.box, previous, ui.plain, conversation, convs.listing, current, browser_id]
    for trigger in (ui.send.click, ui.box.submit):  # its own Chinese progress note, not Gradio's "processing"
        trigger(bind(chat_reply, assistant, store), ask_in, ask_out, show_progress="hidden", **private)
    cleared = [ui.chatbot, previous, ui.plain, conversation, convs.listing, current, convs.title, ui.panel]
    for trigger in (ui.clear.click, convs.new.click, ui.chatbot.clear):
        trigger(new_conversation, None, cleared, **private)
    convs.listing.input(bind(open_conversation, assistant, store), [convs.listing, browser_id],
                        [ui.chatbot, previous, ui.plain, conversation, current, convs.title, convs.message, ui.panel],
                        **private)
    convs.rename.click(bind(rename_conversation, store), [conversation, convs.title, browser_id],
                       [convs.listing, convs.message], **private)
    convs.delete.click(bind(delete_conversation, store), [conversation, browser_id], [*cleared, convs.message],
                       **private)
    ui.chatbot.like(bind(rate_answer, assistant, store), [conversation, browser_id], [ui.panel, rated, ui.feedback_msg],
                    **private)
    ui.submit.click(bind(submit_feedback, store), [conversation, rated, ui.reasons, ui.comment, browser_id],
                    [ui.feedback_msg, ui.reasons, ui.comment], **private)
    ui.copy.click(None, [ui.plain], None, js="(t) => { if (t && navigator.clipboard) "
                  "navigator.clipboard.writeText(t); return []; }")
    demo.load(bind(restore, assistant, store), [browser_id, current],
              [browser_id, convs.listing, ui.chatbot, previous, ui.plain, conversation, convs.title], **private)
    return ChatTab(ui.cities)
