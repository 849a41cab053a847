"""LLM answer mode through the OpenAI-compatible endpoint, over the real index, with a scripted
OpenAI-compatible model on loopback: the `-llm` model is offered only when a model is configured, the checked
answer (not the raw draft) is what streams, and a claim the checks reject stays marked in the content."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from assistant.answering.llm import LLMClient
from assistant.interfaces.http import create_server
from tests.support.scripted_llm import ScriptedLLM, answer

pytestmark = pytest.mark.integration

QUESTION = "长沙集团化办学的合作期限是多久？"


@pytest.fixture
def llm_client(assistant, monkeypatch, tmp_path):
    with ScriptedLLM() as server:
        settings = replace(assistant.settings, llm_base_url=server.base_url, llm_model="scripted", llm_timeout=10.0,
                           data_dir=tmp_path)
        monkeypatch.setattr(assistant, "settings", settings)
        monkeypatch.setattr(assistant, "llm", LLMClient(settings))
        with TestClient(create_server(assistant)) as client:
            yield client, server


def stream(client, model: str) -> tuple[str, list, dict]:
    response = client.post("/v1/chat/completions", json={"model": model, "stream": True,
                                                          "messages": [{"role": "user", "content": QUESTION}]})
    events = [json.loads(e.removeprefix("data: ")) for e in response.text.split("\n\n")
              if e.startswith("data: {")]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    return text, events[-1]["choices"][0]["delta"]["citations"], events[-1]["policy_assistant"]


def test_the_llm_model_streams_the_checked_answer(llm_client):
    client, model = llm_client
    assert "policy-assistant-llm" in [m["id"] for m in client.get("/v1/models").json()["data"]]
    model.script(answer("长沙集团化学校的合作时限一般为六年[1]。「根据需要可适当延长，延长时间原则上不超过六年」[1]。"))
    text, citations, meta = stream(client, "policy-assistant-llm")
    assert meta["mode"] == "llm" and meta["unverified"] == 0
    assert text.startswith("长沙集团化学校的合作时限一般为六年[1]") and "参考来源" in text
    assert citations[0]["quote"] == "根据需要可适当延长，延长时间原则上不超过六年"


def test_a_fabricated_quote_is_marked_not_passed_on(llm_client):
    client, model = llm_client
    # the main claim holds; a later sentence quotes words the clause does not have (a main claim that fails
    # its check turns the whole answer extractive, see test_a_fabricated_main_claim_falls_back)
    reply = answer("长沙集团化学校的合作时限一般为六年[1]。「合作时限一般为十年」[1]。")
    model.script(reply, reply)
    text, _, meta = stream(client, "policy-assistant-llm")
    assert meta["mode"] == "llm" and meta["unverified"] == 1
    assert "「合作时限一般为十年」（未核实）[1]" in text and "已标注“未核实”" in text


def test_a_fabricated_main_claim_falls_back(llm_client):
    client, model = llm_client
    model.script(answer("「合作时限一般为十年」[1]。"), answer("「合作时限一般为十年」[1]。"))
    text, _, meta = stream(client, "policy-assistant-llm")
    assert meta["mode"] == "extractive" and "不是所引条款的原文" in text and "以下为摘录式回答" in text


def test_the_extractive_model_never_calls_the_llm(llm_client):
    client, model = llm_client
    text, citations, meta = stream(client, "policy-assistant-extractive")
    assert meta["mode"] == "extractive" and citations and model.requests == []
