"""What every request to the web app passes before Gradio sees it: two ASGI middlewares inside Gradio's app.

- `LoginGuard` (with ASSISTANT_AUTH): every route needs the session except the login page itself; failed logins
  are throttled per client and logged. Gradio checks the session on most of its routes but not all
  (`/gradio_api/cancel`, `/reset`, heartbeats and startup events answered without it), so the guard decides for
  every request: the login page and its static files pass; `POST /login` passes unless the client has failed
  too often; anything else needs a cookie naming a session Gradio opened at login.
- `RequestCheck`: a call of a named endpoint (`/gradio_api/call/ask`, `/run/ask`, …) whose body is not a JSON
  object with a `data` list holding every input gets a 400 with a clear message (Gradio answers some of these
  with a 500)."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections import defaultdict, deque
from urllib.parse import parse_qs

from starlette.middleware import Middleware

from assistant.config import Settings

log = logging.getLogger("assistant.auth")

# what the login page needs before anyone has logged in
_PUBLIC = {("GET", "/"), ("HEAD", "/"), ("GET", "/favicon.ico"), ("GET", "/theme.css"), ("GET", "/robots.txt"),
           ("GET", "/manifest.json")}
_PUBLIC_PREFIXES = ("/assets/", "/static/", "/pwa_icon", "/gradio_api/assets/", "/gradio_api/static/")
_LOGIN = ("/login", "/login/", "/gradio_api/login", "/gradio_api/login/")
_MAX_LOGIN_BODY = 16 * 1024


class Throttle:
    """At most `limit` failed logins per client in `window` seconds, counting attempts still in flight (so a
    burst of parallel guesses is cut at the limit too); then refused until the oldest failure ages out."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque] = defaultdict(deque)
        self._inflight: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque:
        failures = self._failures[client]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def begin(self, client: str) -> float:
        """0 when `client` may try now (the attempt is then in flight); else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) + self._inflight[client] >= self.limit:
                return (failures[0] + self.window - now) if failures else 1.0
            self._inflight[client] += 1
            return 0.0

    def failures(self, client: str) -> int:
        with self._lock:
            return len(self._recent(client, time.monotonic()))

    def end(self, client: str, failed: bool) -> int:
        """Record the attempt's outcome; the number of recent failures."""
        now = time.monotonic()
        with self._lock:
            self._inflight[client] = max(0, self._inflight[client] - 1)
            failures = self._recent(client, now)
            if failed:
                failures.append(now)
            else:
                failures.clear()
            return len(failures)


def _route(scope) -> str:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root):] or "/" if root and path.startswith(root) else path


def _cookies(scope) -> dict[str, str]:
    out = {}
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                out[key] = val
    return out


def session_user(scope) -> str | None:
    """The user whose Gradio session cookie this request carries (None: not logged in)."""
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if tokens is None or cookie_id is None:
        return None
    cookies = _cookies(scope)
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return tokens.get(token) if token else None


async def _json(send, status: int, message: str, headers: dict | None = None) -> None:
    body = json.dumps({"detail": message, "error": message}, ensure_ascii=False).encode("utf-8")
    raw = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _starting(scope, route: str) -> bool:
    """Gradio's launch() calls its own startup-events route, once, from the same machine and without a session;
    afterwards that route needs one like any other (see `mounted` for an app started by its server's lifespan)."""
    return route.rstrip("/") == "/gradio_api/startup-events" and \
        getattr(scope.get("app"), "startup_events_triggered", True) is False and \
        (scope.get("client") or ("",))[0] in ("127.0.0.1", "::1")


def mounted(server) -> None:
    """After `gr.mount_gradio_app(server, …)`: the server's lifespan runs Gradio's startup events, so its
    startup-events route has nothing left to start and, like every other route, needs the session."""
    for route in getattr(server, "routes", ()):
        app = getattr(route, "app", None)
        if hasattr(app, "startup_events_triggered"):
            app.startup_events_triggered = True


class LoginGuard:
    """ASGI middleware inside Gradio's app: the session for everything but the login page."""

    def __init__(self, app, throttle: Throttle):
        self.app, self.throttle = app, throttle

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        method, route = scope.get("method", "GET"), _route(scope)
        if scope["type"] == "http" and method == "POST" and route in _LOGIN:
            return await self._login(scope, receive, send)
        public = scope["type"] == "http" and ((method, route) in _PUBLIC or
                                              (method in ("GET", "HEAD") and route.startswith(_PUBLIC_PREFIXES)) or
                                              _starting(scope, route))
        if public or session_user(scope) is not None:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 4401})
        await _json(send, 401, "需要登录：请先在网页上登录。")

    async def _login(self, scope, receive, send):
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.throttle.begin(client)
        if wait:
            log.warning("网页登录被限制：%s 在 %.0f 秒内失败次数过多", client, self.throttle.window)
            return await _json(send, 429, f"登录失败次数过多，请 {int(wait) + 1} 秒后再试。",
                               {"Retry-After": str(int(wait) + 1)})
        body, status = b"", [0]
        try:
            body = await _read_body(receive, _MAX_LOGIN_BODY)
            if body is None:
                body = b""
                return await _json(send, 413, "登录请求过大。")

            async def watch(message):
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                    if status[0] != 200:  # each further wrong guess from this client waits longer for its answer
                        await asyncio.sleep(min(0.25 * (self.throttle.failures(client) + 1), 2.0))
                await send(message)

            await self.app(scope, _replay(body), watch)
        finally:
            failed = status[0] != 200
            failures = self.throttle.end(client, failed)
            if failed:
                user = (parse_qs(body.decode("utf-8", "replace")).get("username") or ["?"])[0][:40]
                log.warning("网页登录失败：用户 %r，来自 %s（%d 秒内第 %d 次）", user, client, self.throttle.window,
                            failures)


async def _read_body(receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is larger than `limit`."""
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > limit:
            return None
    return body


def _replay(body: bytes):
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return receive


_CALL = re.compile(r"^(?:/gradio_api)?/(?:run|api|call)/([\w-]+)/?$")
_MAX_CALL_BODY = 2 * 1024 * 1024
_EXAMPLE = '例如 {"data": ["长沙集团化办学的合作期限是多久？", []]}'


def _inputs(app, api_name: str) -> int | None:
    """How many inputs the endpoint `api_name` takes (None: no such endpoint here)."""
    try:
        fns = app.get_blocks().fns.values()
    except Exception:  # noqa: BLE001 — not a Gradio app: nothing to check against
        return None
    for fn in fns:
        if getattr(fn, "api_name", None) == api_name:
            return len(fn.inputs)
    return None


class RequestCheck:
    """ASGI middleware: the body of a named endpoint's call is checked before Gradio parses it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        match = _CALL.match(_route(scope)) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if match is None:
            return await self.app(scope, receive, send)
        body = await _read_body(receive, _MAX_CALL_BODY)
        if body is None:
            return await _json(send, 413, f"请求体过大（上限 {_MAX_CALL_BODY // 1024 // 1024} MB）。")
        problem = _body_problem(body, match.group(1), _inputs(scope.get("app"), match.group(1)))
        if problem:
            return await _json(send, 400, problem)
        await self.app(scope, _replay(body), send)


def _body_problem(body: bytes, name: str, inputs: int | None) -> str | None:
    if not body.strip():
        return f"请求体为空：应为 JSON 对象，{_EXAMPLE}。"
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return f"请求体不是有效的 JSON：{_EXAMPLE}。"
    if not isinstance(data, dict):
        return f"请求体应为 JSON 对象，{_EXAMPLE}。"
    values = data.get("data")
    if not isinstance(values, list):
        return f"请求体缺少 data 列表（按顺序给出各参数），{_EXAMPLE}。"
    if inputs is not None and len(values) < inputs:
        return f"参数不足：/{name} 需要 {inputs} 个参数，收到 {len(values)} 个，{_EXAMPLE}。"
    return None


def app_kwargs(settings: Settings) -> dict:
    """What `launch(app_kwargs=…)` or `mount_gradio_app(app_kwargs=…)` needs to guard Gradio's app. Without
    ASSISTANT_AUTH (the local single-user default) there is no login, but bodies are still checked; with it the
    login guard comes first, so nothing of a request is read before its session is."""
    middleware = [Middleware(RequestCheck)]
    if settings.auth:
        throttle = Throttle(settings.login_max_failures, settings.login_window)
        middleware.insert(0, Middleware(LoginGuard, throttle=throttle))
    return {"middleware": middleware}
