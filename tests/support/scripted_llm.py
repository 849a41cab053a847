"""A scripted OpenAI-compatible chat endpoint on loopback: each request gets the next scripted reply
(a streamed answer, an HTTP error, a stall, malformed bytes), and every request body is recorded."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = Callable[[BaseHTTPRequestHandler], None]


def _chunk(content: str | None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    body = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


def _start_sse(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()


def answer(text: str, pieces: int = 4, delay: float = 0.0) -> Reply:
    """Stream `text` in about `pieces` chunks, `delay` seconds apart."""
    size = max(1, -(-len(text) // pieces))

    def reply(handler: BaseHTTPRequestHandler) -> None:
        _start_sse(handler)
        handler.wfile.write(_chunk(None))  # role-only first chunk, as OpenAI sends
        for i in range(0, len(text), size):
            time.sleep(delay)
            handler.wfile.write(_chunk(text[i:i + size]))
            handler.wfile.flush()
        handler.wfile.write(_chunk(None, "stop") + b"data: [DONE]\n\n")
    return reply


def status(code: int, message: str = "scripted failure") -> Reply:
    def reply(handler: BaseHTTPRequestHandler) -> None:
        body = json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return reply


def stall(seconds: float) -> Reply:
    """Accept the request, then say nothing for `seconds`."""
    def reply(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        status(500, "too late")(handler)
    return reply


def raw_sse(*events: bytes) -> Reply:
    """An event stream with the given raw bytes (e.g. malformed JSON)."""
    def reply(handler: BaseHTTPRequestHandler) -> None:
        _start_sse(handler)
        for event in events:
            handler.wfile.write(event)
    return reply


def raw(body: bytes, content_type: str = "text/html") -> Reply:
    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return reply


class ScriptedLLM:
    """`with ScriptedLLM() as llm: llm.script(answer("…[1]")); … llm.requests` (parsed JSON bodies)."""

    def __init__(self):
        self.replies: list[Reply] = []
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with scripted._lock:
                    scripted.requests.append(json.loads(body or b"{}"))
                    reply = scripted.replies.pop(0) if scripted.replies else status(500, "unscripted")
                try:
                    reply(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to do

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def __enter__(self) -> "ScriptedLLM":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
