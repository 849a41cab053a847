"""The chat tab's handlers (assistant/interfaces/web/chat.py) with a stand-in assistant and a real store in a
temporary directory: streaming drafts, the answer with its cards, follow-up context, conversations saved,
reopened, renamed and deleted per owner, and 👍/👎 feedback. Errors are messages, never tracebacks."""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from assistant.domain.values import Answer, Citation
from assistant.errors import QuestionError
from assistant.interfaces.web import chat
from assistant.interfaces.web.store import Store
from assistant.retrieval.dialogue import Turn, resolve

pytestmark = pytest.mark.unit

CITE = Citation(chunk_id="c1", doc_id="cs", title="指导意见", city="长沙市", doc_number="长教通〔2020〕97号",
                clause="三、主要举措 › 限定合作时间", status="official", text="集团化学校合作时限一般为六年。",
                score=0.5, n=1, quote="集团化学校合作时限一般为六年。")
BROWSER = "b" * 32


class FakeAssistant:
    cities = ["南昌市", "郑州市中原区", "长沙市", "青岛市"]

    def __init__(self, drafts=(), error=None, conclusion=""):
        self.drafts, self.error, self.conclusion, self.calls = drafts, error, conclusion, []

    def follow_up(self, message, previous=None, cities=None):  # the facade's follow_up is this pure function
        return resolve(message, previous, self.cities, cities)

    @staticmethod
    def resume(question, cities):
        return Turn(question, tuple(cities))

    @staticmethod
    def corpus_hash():
        return "c0ffee"

    def ask_stream(self, question, cities=None, mode=None, only_place=False, as_of=None, include_outdated=False):
        self.calls.append((question, cities))
        self.only_place = only_place
        self.versions = (as_of, include_outdated)
        if self.error:
            raise self.error
        yield from self.drafts
        named = tuple(c for c in self.cities if c[:2] in question) or ("长沙市",)
        yield Answer(question=question, answer="「集团化学校合作时限一般为六年。」[1]", abstained=False,
                     citations=(CITE,), cities=tuple(cities or named), conclusion=self.conclusion)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "app.sqlite3")


def request(user=None, session="s1"):
    return SimpleNamespace(username=user, session_hash=session)


def run(assistant, store, message, history=(), cities=None, previous=None, conversation=None, browser=BROWSER,
        req=None, only_place=False):
    """Each step of a turn as the page saw it when it was yielded."""
    return [([dict(m) for m in h], *rest) for h, *rest in chat.chat_reply(
        assistant, store, message, list(history), cities, previous, conversation, browser, only_place,
        request=req or request())]


def test_the_only_place_box_reaches_the_question(store):
    fake = FakeAssistant()
    run(fake, store, "青岛幼儿园户外活动时间？")
    assert fake.only_place is False
    run(fake, store, "青岛幼儿园户外活动时间？", only_place=True)
    assert fake.only_place is True


def test_a_turn_shows_a_chinese_note_at_once_then_drafts_then_the_answer_with_cards(store):
    fake = FakeAssistant(drafts=("集团化学校", "合作时限<b>"), conclusion="长沙市：合作时限一般为六年[1]")
    steps = run(fake, store, "长沙集团化办学的合作期限是多久？")
    first = steps[0][0]
    assert first[0] == {"role": "user", "content": "长沙集团化办学的合作期限是多久？"}
    assert "正在检索条款" in first[1]["content"] and "pa-spinner" in first[1]["content"]
    assert any("合作时限&lt;b&gt;" in s[0][-1]["content"] and "正在生成" in s[0][-1]["content"] for s in steps)
    history, box, remembered, plain, conversation, listing, current, _ = steps[-1]
    answer = history[-1]["content"]
    assert 'id="cite-' in answer and "<mark>集团化学校合作时限一般为六年。</mark>" in answer
    assert answer.index("pa-conclusion") < answer.index("pa-text-answer")  # the conclusion comes first
    assert remembered == Turn("长沙集团化办学的合作期限是多久？", ("长沙市",)) and box == ""
    assert "结论：长沙市：合作时限一般为六年[1]" in plain and "[1] 长沙市｜《指导意见》（长教通〔2020〕97号）" in plain
    assert fake.calls == [("长沙集团化办学的合作期限是多久？", None)]
    # saved: the conversation is named after its first question and listed for this browser
    assert current == conversation and [c.id for c in store.conversations("browser:" + BROWSER)] == [conversation]
    assert listing.choices == [("长沙集团化办学的合作期限是多久？", conversation)]
    assert store.turns("browser:" + BROWSER, conversation)[0].answer.question == "长沙集团化办学的合作期限是多久？"


def test_a_follow_up_asks_the_previous_question_about_the_new_city_in_the_same_conversation(store):
    fake = FakeAssistant()
    *_, first = run(fake, store, "青岛成员校退出集团需要谁批准？")
    history, _, previous, _, conversation, *_ = first
    *_, second = run(fake, store, "那长沙呢？", history, previous=previous, conversation=conversation)
    assert fake.calls[-1] == ("长沙市成员校退出集团需要谁批准？", ["长沙市"])
    assert "按上文理解为：长沙市成员校退出集团需要谁批准？" in second[0][-1]["content"]
    assert second[4] == conversation and len(store.turns("browser:" + BROWSER, conversation)) == 2
    # and a third city replaces the full name of the second, not just "长沙" ("南昌市市……")
    *_, third = run(fake, store, "那南昌呢？", second[0], previous=second[2], conversation=conversation)
    assert fake.calls[-1][0] == "南昌市成员校退出集团需要谁批准？"


def test_errors_are_saved_messages_and_html_in_the_question_is_inert(store):
    steps = run(FakeAssistant(error=QuestionError("问题过长（100000 字），请精简。")), store, "<img src=x>" + "问" * 100_000)
    history = steps[-1][0]
    assert "<img" not in history[0]["content"] and len(history[0]["content"]) < 2100
    assert "pa-error" in history[-1]["content"] and "问题过长" in history[-1]["content"]
    [turn] = store.turns("browser:" + BROWSER, steps[-1][4])
    assert turn.error == "问题过长（100000 字），请精简。" and turn.answer is None  # message 2n+1 stays turn n
    steps = run(FakeAssistant(error=RuntimeError("boom /secret/path")), store, "长沙的合作期限？")
    assert "内部错误" in steps[-1][0][-1]["content"] and "boom" not in steps[-1][0][-1]["content"]


def test_a_browser_without_an_id_gets_the_same_one_from_the_load_event_and_its_first_question(store):
    loaded = chat.restore(FakeAssistant(), store, None, None, request(session="page-1"))
    steps = run(FakeAssistant(), store, "长沙的合作期限？", browser=None, req=request(session="page-1"))
    assert loaded[0] == steps[0][-1] and len(loaded[0]) == 32  # one id, whichever event came first
    assert store.conversations("browser:" + loaded[0])
    # a login wins over the browser's id
    run(FakeAssistant(), store, "青岛的合作期限？", req=request(user="principal"))
    assert [c.title for c in store.conversations("user:principal")] == ["青岛的合作期限？"]


def test_a_reopened_conversation_restores_the_chat_its_context_and_feedback(store):
    fake = FakeAssistant()
    *_, last = run(fake, store, "青岛成员校退出集团需要谁批准？")
    conversation = last[4]
    store.rate("browser:" + BROWSER, conversation, 0, "down", None)
    chatbot, previous, plain, opened, current, title, message, panel = chat.open_conversation(
        fake, store, conversation, BROWSER, request())
    assert len(chatbot.value) == 2 and chatbot.feedback_value == ["Dislike"]
    assert previous == Turn("青岛成员校退出集团需要谁批准？", ("青岛市",)) and "合作时限一般为六年" in plain
    assert opened == current == conversation and title == "青岛成员校退出集团需要谁批准？" and message == ""
    # after a reload the browser's remembered conversation comes back by itself
    restored = chat.restore(fake, store, BROWSER, conversation, request())
    assert restored[0] == BROWSER and restored[5] == conversation and len(restored[2].value) == 2
    assert chat.restore(fake, store, BROWSER, chat.NO_CONVERSATION, request())[2] == gr.skip()


def test_a_conversation_id_of_another_user_is_refused(store):
    *_, last = run(FakeAssistant(), store, "青岛成员校退出集团需要谁批准？")
    conversation = last[4]
    other = "c" * 32
    *unchanged, message, _ = chat.open_conversation(FakeAssistant(), store, conversation, other, request())
    assert "找不到该对话" in message and all(u == gr.skip() for u in unchanged)
    assert "找不到该对话" in chat.rename_conversation(store, conversation, "偷看", other, request())[1]
    assert "找不到该对话" in chat.delete_conversation(store, conversation, other, request())[-1]
    # nor does another browser's remembered id reopen it on load
    assert chat.restore(FakeAssistant(), store, other, conversation, request())[5] == gr.skip()
    assert len(store.turns("browser:" + BROWSER, conversation)) == 1


def test_new_conversation_and_delete_clear_the_follow_up_context(store):
    *_, last = run(FakeAssistant(), store, "青岛成员校退出集团需要谁批准？")
    cleared = chat.new_conversation()
    assert cleared[0] == [] and cleared[1] is None and cleared[3] is None and cleared[5] == chat.NO_CONVERSATION
    deleted = chat.delete_conversation(store, last[4], BROWSER, request())
    assert deleted[0] == [] and deleted[1] is None and deleted[4].choices == [] and "已删除" in deleted[-1]


def like(index: int, liked):
    return gr.LikeData(None, {"index": index, "value": ["…"], "liked": liked})


def test_thumbs_are_stored_and_a_long_comment_is_cut_with_a_message(store):
    fake = FakeAssistant()
    *_, last = run(fake, store, "长沙集团化办学的合作期限是多久？")
    conversation = last[4]
    panel, seq, message = chat.rate_answer(fake, store, conversation, BROWSER, like(1, False), request())
    assert panel.visible is True and seq == 0 and "已记录“踩”" in message
    [item] = store.feedback()
    assert item.rating == "down" and item.corpus_hash == "c0ffee" and item.citations[0]["doc_id"] == "cs"
    message, reasons, comment = chat.submit_feedback(store, conversation, 0, ["答案不完整"], "说" * 10_000, BROWSER,
                                                     request())
    assert "已截取前 2000 字" in message and reasons == [] and comment == ""
    assert store.feedback()[0].reasons == ("答案不完整",) and len(store.feedback()[0].comment) == 2000
    panel, seq, message = chat.rate_answer(fake, store, conversation, BROWSER, like(1, ""), request())
    assert panel.visible is False and "撤销" in message and store.feedback() == []
    # the question itself, or a rating before the page knows the conversation, is not stored
    assert "不是回答" in chat.rate_answer(fake, store, conversation, BROWSER, like(0, True), request())[2]
    assert "未能保存" in chat.rate_answer(fake, store, None, BROWSER, like(1, True), request())[2]


def test_the_trash_button_and_new_conversation_share_one_handler(tmp_path):
    """Both clear the chat and the follow-up context (Gradio's own trash button fires `clear`)."""
    from assistant.interfaces.web.app import build_app

    demo = build_app(SimpleNamespace(settings=SimpleNamespace(data_dir=tmp_path)))
    handlers = {}
    for fn in demo.fns.values():
        for block_id, event in fn.targets:
            handlers.setdefault(event, set()).add(fn.fn.__name__ if fn.fn else None)
    assert "new_conversation" in handlers["clear"] and "new_conversation" in handlers["click"]


def test_the_date_and_old_versions_options_reach_the_assistant(store):
    fake = FakeAssistant()
    steps = list(chat.chat_reply(fake, store, "长沙集团化办学的合作期限是多久？", [], None, None, None, BROWSER,
                                 False, request(), " 2023-09-01 ", True))
    assert fake.versions == ("2023-09-01", True)
    assert 'id="cite-' in steps[-1][0][-1]["content"]
    list(chat.chat_reply(fake, store, "长沙集团化办学的合作期限是多久？", [], None, None, None, BROWSER, False,
                         request()))
    assert fake.versions == (None, False)  # by default: the versions in force today
