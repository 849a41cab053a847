"""`Assistant.ask(..., mode="llm")` over the real index, with a scripted OpenAI-compatible server:
abstention stays in code, sources are the retrieved clauses, failures give the extractive answer."""
from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.answering.llm import LLMClient

from tests.support.scripted_llm import ScriptedLLM, answer, status

pytestmark = pytest.mark.integration

TERM_QUESTION = "长沙集团化办学的合作期限是多久？"
TERM_CLAUSE = "三、主要举措 › 5. 构建退出机制 › 限定合作时间"


@pytest.fixture
def llm(assistant, monkeypatch):
    with ScriptedLLM() as server:
        settings = replace(assistant.settings, llm_base_url=server.base_url, llm_model="scripted",
                           llm_timeout=5.0, llm_retries=1)
        monkeypatch.setattr(assistant, "llm", LLMClient(settings))
        yield server


def test_llm_mode_answers_from_the_retrieved_clauses(assistant, llm):
    llm.script(answer("长沙集团化学校的合作时限一般为六年[1]。「根据需要可适当延长，延长时间原则上不超过六年」[1]。"))
    items = list(assistant.ask_stream(TERM_QUESTION, mode="llm"))
    final = items[-1]
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) > 2
    assert final.mode == "llm" and not final.abstained and final.unverified == 0
    assert final.citations[0].clause == TERM_CLAUSE and final.citations[0].city == "长沙市"
    assert final.citations[0].quote == "根据需要可适当延长，延长时间原则上不超过六年"
    retrieved = assistant.retrieve(TERM_QUESTION, k=assistant.settings.top_k)
    prompt = llm.requests[0]["messages"][1]["content"]
    assert all(c.text in prompt for c in retrieved), "every retrieved clause is a numbered source"
    assert prompt.count("<source id=") == len(retrieved)


def test_the_default_mode_stays_extractive_when_not_configured(assistant, llm):
    assert assistant.settings.default_mode == "extractive"
    assert assistant.ask(TERM_QUESTION).mode == "extractive" and llm.requests == []


@pytest.mark.parametrize("question", ["北京市集团化办学的成员校退出有什么规定？", "今天南昌天气怎么样？"])
def test_abstention_is_decided_before_any_model_call(assistant, llm, question):
    final = assistant.ask(question, mode="llm")
    assert final.abstained and llm.requests == []


def test_a_failing_model_gives_exactly_the_extractive_answer_with_a_notice(assistant, llm):
    llm.script(status(500), status(500))
    extractive = assistant.ask(TERM_QUESTION, mode="extractive")
    final = assistant.ask(TERM_QUESTION, mode="llm")
    assert final.mode == "extractive" and final.answer == extractive.answer
    assert final.citations == extractive.citations
    assert final.notices == ("大模型服务返回错误（HTTP 500），以下为摘录式回答。", *extractive.notices)


def test_llm_mode_without_configuration_says_so(assistant, monkeypatch):
    monkeypatch.setattr(assistant, "llm", None)
    final = assistant.ask(TERM_QUESTION, mode="llm")
    assert final.mode == "extractive" and "未配置大模型" in final.notices[0]


def test_an_unknown_mode_is_refused(assistant):
    with pytest.raises(ValueError):
        assistant.ask(TERM_QUESTION, mode="chat")
