"""The official `openai` Python client against the running server: models, a plain and a streamed completion
with the citations as numbered sources and as a structured field, and a chat front-end's multi-turn exchange
(the whole history sent each time, follow-ups resolved from the earlier user turns)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

QUESTION = "长沙集团化办学的合作期限是多久？"


def client_for(live, key: str = "not-needed-locally"):
    from openai import OpenAI

    return OpenAI(base_url=live.url + "/v1", api_key=key, timeout=120, max_retries=0)


def cities_of(citations) -> set[str]:
    return {c["city"] for c in citations}


def test_models_and_a_completion_with_citations(live):
    client = client_for(live)
    assert [m.id for m in client.models.list()] == ["policy-assistant", "policy-assistant-extractive"]
    reply = client.chat.completions.create(model="policy-assistant", messages=[{"role": "user", "content": QUESTION}])
    message = reply.choices[0].message
    assert message.role == "assistant" and reply.choices[0].finish_reason == "stop"
    assert "合作时限一般为六年" in message.content and "参考来源" in message.content
    assert "[1] 长沙市·市级｜《关于进一步优化基础教育集团化办学的指导意见》（长教通〔2020〕97号）" in message.content
    citations = message.citations  # the structured field, read through the client as any extra field
    assert citations[0]["n"] == 1 and citations[0]["doc_id"] == "changsha-jituan-2020"
    assert "合作时限一般为六年" in citations[0]["quote"]
    assert reply.usage.total_tokens > 0


def test_a_streamed_completion_ends_with_the_citations(live):
    client = client_for(live)
    stream = client.chat.completions.create(model="policy-assistant", stream=True,
                                            messages=[{"role": "user", "content": QUESTION}],
                                            stream_options={"include_usage": True})
    text, citations, finish, usage = "", None, None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            citations = getattr(choice.delta, "citations", None) or citations
            finish = choice.finish_reason or finish
    assert "合作时限一般为六年" in text and "参考来源" in text and finish == "stop"
    assert citations and citations[0]["doc_number"] == "长教通〔2020〕97号"
    assert usage.completion_tokens == len(text)


def test_a_front_end_style_conversation(live):
    """As Open WebUI or NextChat send it: a system prompt, then every earlier turn with each new question."""
    client = client_for(live)
    history = [{"role": "system", "content": "You are a helpful assistant."}]

    def say(text: str):
        history.append({"role": "user", "content": text})
        reply = client.chat.completions.create(model="policy-assistant", messages=history).choices[0].message
        history.append({"role": "assistant", "content": reply.content})
        return reply

    first = say("青岛组建教育集团需要谁审批？")
    assert cities_of(first.citations) == {"青岛市"}
    second = say("那长沙呢？")
    assert second.content.startswith("（按上文理解为：长沙") and cities_of(second.citations) == {"长沙市"}
    third = say("合作期限是多久？")  # names no city: keeps 长沙 from the conversation
    assert "沿用上文的城市：长沙市" in third.content and "合作时限一般为六年" in third.content
    stranger = say("北京的集团化办学有什么规定？")
    assert stranger.content.startswith("未找到依据") and stranger.citations == []


def test_errors_reach_the_client_in_chinese(live):
    import openai

    client = client_for(live)
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert "没有模型 gpt-4o" in str(missing.value)
    with pytest.raises(openai.BadRequestError) as empty:
        client.chat.completions.create(model="policy-assistant", messages=[{"role": "user", "content": "   "}])
    assert "问题不能为空" in str(empty.value)


def test_with_login_the_api_key_is_an_api_token(locked):
    import openai

    done = subprocess.run([sys.executable, "-m", "assistant", "token", "create", "webui"], cwd=ROOT, env=locked.env,
                          capture_output=True, text=True, timeout=60)
    key = done.stdout.splitlines()[0]
    with pytest.raises(openai.AuthenticationError) as refused:
        client_for(locked, "sk-wrong").models.list()
    assert "API 令牌或用户名密码无效" in str(refused.value)
    reply = client_for(locked, key).chat.completions.create(
        model="policy-assistant", messages=[{"role": "user", "content": QUESTION}])
    assert reply.choices[0].message.citations
