"""An OpenAI-compatible chat endpoint: `POST /v1/chat/completions` (streaming or not) and `GET /v1/models`.

Any OpenAI client or chat front-end can use the assistant as a "model". The last user message is the question;
the earlier user messages are replayed through `Assistant.follow_up`, so "那长沙呢？" after a question about 青岛
asks the same question about 长沙, as in the web chat. System prompts and earlier assistant messages are
ignored on purpose: a client cannot instruct the assistant to answer from anything but the corpus.

The citations travel twice: as numbered sources appended to the content (for front-ends that show only text)
and as `message.citations` (streaming: `delta.citations` in the last chunk), the same objects as the HTTP
API's `citations`. When streaming, only the checked answer is sent: an LLM draft can still be rejected or
corrected by the citation checks, and text already streamed cannot be taken back, so while the model drafts
the stream carries SSE comments (keep-alives), then the verified answer in pieces."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.domain.values import Answer, status_label
from assistant.interfaces.http.failures import ApiError, failure_message
from assistant.interfaces.http.schemas import ErrorOut

MODEL = "policy-assistant"
_ERRORS = {status: {"model": ErrorOut} for status in (400, 401, 404, 413, 422)}
_PIECE = 24  # characters per streamed content delta
_KEEP_ALIVE_SECONDS = 5.0


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict] | None = None


class ChatRequest(BaseModel):
    # clients send temperature, top_p, max_tokens, user …: accepted and ignored
    model_config = ConfigDict(extra="allow")
    model: str = Field(examples=[MODEL])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict | None = None
    cities: list[str] | None = Field(None, description="扩展字段：只在这些城市/区县的文件中查找")
    as_of: str | None = Field(None, max_length=20, description="扩展字段：按该日期（YYYY-MM-DD）施行的版本回答")


def model_ids(assistant) -> dict[str, str | None]:
    """Model id → answer mode: the configured default, always extractive, and LLM when a model is configured."""
    ids = {MODEL: None, f"{MODEL}-extractive": "extractive"}
    if assistant.settings.llm_configured:
        ids[f"{MODEL}-llm"] = "llm"
    return ids


def text_of(message: ChatMessage) -> str:
    """A message's text: a plain string, or the text parts of a multi-part content list."""
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "\n".join(p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text")


def conversation(assistant, messages: list[ChatMessage], cities: list[str] | None):
    """The turn the last user message asks, with the earlier user messages as its follow-up context."""
    if messages[-1].role != "user":
        raise ApiError(400, "last_message_not_user", "最后一条消息应为用户的问题（role 为 user）。", "messages")
    previous = None
    for message in messages[:-1]:
        if message.role == "user" and text_of(message).strip():
            previous = assistant.follow_up(text_of(message), previous)
    return assistant.follow_up(text_of(messages[-1]), previous, cities)


def _note(turn) -> str:
    if turn.rewritten:
        return f"（按上文理解为：{turn.question}）"
    if turn.inherited:
        return f"（沿用上文的城市：{'、'.join(turn.cities)}）"
    return ""


def _inert(text: str) -> str:
    # chat front-ends render Markdown and some render HTML: a policy text's tags must stay text
    return text.replace("<", "＜").replace(">", "＞")


def content_of(answer: Answer, note: str = "") -> str:
    """The answer as a chat message: the note, the answer, its notices, then the numbered sources."""
    lines = [note] if note else []
    lines.append(("未找到依据：" if answer.abstained else "") + _inert(answer.answer).replace("\n", "\n\n"))
    lines += [f"⚠️ {_inert(n)}" for n in answer.notices]
    if answer.citations:
        lines.append("参考来源：")
        for c in answer.citations:
            number = f"（{c.doc_number}）" if c.doc_number else ""
            tag = "" if c.status == "official" else f"【{status_label(c.status)}】"
            lines.append(f"[{c.n}] {_inert(c.place_label)}｜《{_inert(c.title)}》{number}{tag}｜{_inert(c.clause)}\n"
                         f"> {_inert(c.quote or c.text)}")
    return "\n\n".join(lines)


def _meta(answer: Answer, turn) -> dict:
    return {"question": turn.question, "abstained": answer.abstained, "mode": answer.mode,
            "cities": list(answer.cities), "notices": list(answer.notices), "unverified": answer.unverified}


def _usage(request: ChatRequest, content: str) -> dict:
    # characters, not tokens: there is no tokenizer here, and for Chinese one character is about one token
    prompt = sum(len(text_of(m)) for m in request.messages)
    return {"prompt_tokens": prompt, "completion_tokens": len(content), "total_tokens": prompt + len(content)}


def router(assistant) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["OpenAI 兼容"], responses=_ERRORS)

    @api.get("/models", summary="可用的“模型”（回答模式）")
    def models():
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": MODEL}
                                           for m in model_ids(assistant)]}

    @api.post("/chat/completions", summary="对话补全（OpenAI 兼容，带引用）")
    def chat_completions(body: ChatRequest):
        """最后一条用户消息为问题，之前的用户消息作为追问的上下文；回答附编号来源，`message.citations` 为结构化引用。"""
        ids = model_ids(assistant)
        if body.model not in ids:
            raise ApiError(404, "model_not_found", f"没有模型 {body.model}；可用：{'、'.join(ids)}。", "model")
        turn = conversation(assistant, body.messages, body.cities)
        scope = list(turn.cities) if (body.cities or turn.rewritten or turn.inherited) else None
        items = assistant.ask_stream(turn.question, cities=scope, mode=ids[body.model], as_of=body.as_of or None)
        first = next(items)  # checks the question and retrieves before any byte is sent: errors stay 4xx JSON
        completion = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": body.model}
        if body.stream:
            return StreamingResponse(_events(completion, first, items, turn, body), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        answer = first if isinstance(first, Answer) else _final(items)
        content = content_of(answer, _note(turn))
        message = {"role": "assistant", "content": content,
                   "citations": [c.to_dict() for c in answer.citations]}
        return {**completion, "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": _usage(body, content), "policy_assistant": _meta(answer, turn)}

    return api


def _final(items: Iterator) -> Answer:
    answer = None
    for item in items:
        answer = item
    return answer


def _sse(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _events(completion: dict, first, items: Iterator, turn, request: ChatRequest) -> Iterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        return _sse({**completion, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra})

    yield chunk({"role": "assistant", "content": ""})
    answer, beat = first, time.monotonic()
    try:
        while not isinstance(answer, Answer):  # an LLM draft: kept back until the checks have passed
            if time.monotonic() - beat > _KEEP_ALIVE_SECONDS:
                yield ": 正在生成，完成后逐条核对引用\n\n"
                beat = time.monotonic()
            answer = next(items)
    except Exception as exc:  # noqa: BLE001 — the status line is sent: report in the stream, as OpenAI does
        yield _sse({"error": {"code": "internal_error", "type": "server_error", "param": None,
                              "message": failure_message(exc)}})
        return
    content = content_of(answer, _note(turn))
    for start in range(0, len(content), _PIECE):
        yield chunk({"content": content[start:start + _PIECE]})
    yield chunk({"citations": [c.to_dict() for c in answer.citations]}, "stop", policy_assistant=_meta(answer, turn))
    if (request.stream_options or {}).get("include_usage"):
        yield _sse({**completion, "object": "chat.completion.chunk", "choices": [], "usage": _usage(request, content)})
    yield "data: [DONE]\n\n"
