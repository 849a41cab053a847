"""The chat turn of the web app (app.chat_reply) with a stand-in assistant: streaming drafts, the final
answer with citation cards, follow-up context, and errors shown as messages, never tracebacks."""
from __future__ import annotations

import pytest

from assistant.retrieval.dialogue import Turn, resolve
from assistant.errors import QuestionError
from assistant.domain.values import Answer, Citation

pytestmark = pytest.mark.unit  # tests marked integration below override it

CITE = Citation(chunk_id="c1", doc_id="cs", title="指导意见", city="长沙市", doc_number="长教通〔2020〕97号",
                clause="三、主要举措 › 限定合作时间", status="official", text="集团化学校合作时限一般为六年。",
                score=0.5, n=1, quote="集团化学校合作时限一般为六年。")


class FakeAssistant:
    cities = ["南昌市", "郑州市中原区", "长沙市", "青岛市"]

    def __init__(self, drafts=(), error=None):
        self.drafts, self.error, self.calls = drafts, error, []

    def follow_up(self, message, previous=None, cities=None):  # the facade's follow_up is this pure function
        return resolve(message, previous, self.cities, cities)

    def ask_stream(self, question, cities=None, mode=None):
        self.calls.append((question, cities))
        if self.error:
            raise self.error
        yield from self.drafts
        yield Answer(question=question, answer="「集团化学校合作时限一般为六年。」[1]", abstained=False,
                     citations=(CITE,), cities=tuple(cities or ("长沙市",)))


def run(assistant, message, history=(), cities=None, previous=None):
    from assistant.interfaces.web.app import chat_reply

    # each step as the page saw it when it was yielded
    return [([dict(m) for m in h], *rest) for h, *rest in chat_reply(assistant, message, list(history), cities,
                                                                    previous)]


def test_a_turn_streams_drafts_then_the_answer_with_cards():
    fake = FakeAssistant(drafts=("集团化学校", "合作时限<b>"))
    steps = run(fake, "长沙集团化办学的合作期限是多久？")
    history, box, remembered, plain = steps[-1]
    assert box == "" and history[0] == {"role": "user", "content": "长沙集团化办学的合作期限是多久？"}
    assert any("合作时限&lt;b&gt;" in s[0][-1]["content"] and "正在生成" in s[0][-1]["content"] for s in steps)
    assert 'id="cite-' in history[-1]["content"] and "<mark>集团化学校合作时限一般为六年。</mark>" in history[-1]["content"]
    assert remembered == Turn("长沙集团化办学的合作期限是多久？", ("长沙市",))
    assert "[1] 长沙市｜《指导意见》（长教通〔2020〕97号）" in plain
    assert fake.calls == [("长沙集团化办学的合作期限是多久？", None)]


def test_a_follow_up_asks_the_previous_question_about_the_new_city():
    fake = FakeAssistant()
    steps = run(fake, "那长沙呢？", previous=Turn("青岛成员校退出集团需要谁批准？", ("青岛市",)))
    assert fake.calls == [("长沙市成员校退出集团需要谁批准？", ["长沙市"])]
    assert "按上文理解为：长沙市成员校退出集团需要谁批准？" in steps[-1][0][-1]["content"]


def test_errors_are_messages_and_html_in_the_question_is_inert():
    steps = run(FakeAssistant(error=QuestionError("问题过长（100000 字），请精简。")), "<img src=x>" + "问" * 100_000)
    history = steps[-1][0]
    assert "<img" not in history[0]["content"] and len(history[0]["content"]) < 2100
    assert "pa-error" in history[-1]["content"] and "问题过长" in history[-1]["content"]
    steps = run(FakeAssistant(error=RuntimeError("boom /secret/path")), "长沙的合作期限？")
    assert "内部错误" in steps[-1][0][-1]["content"] and "boom" not in steps[-1][0][-1]["content"]
