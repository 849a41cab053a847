"""Who may call the API, and how much they may send: one ASGI middleware in front of /api/v1, /v1 and /mcp.

Credentials, in order:
- `Authorization: Bearer pa_…`: an API token from `policy-assistant token create` (read-only unless --write);
- `Authorization: Basic …` with an ASSISTANT_AUTH user and password (what curl -u sends): full rights, as in
  the web app, where a logged-in user may upload and delete;
- the web app's login cookie: a browser logged in to the web app may use the API (and its docs page).

When neither ASSISTANT_AUTH nor any token is configured the server is the local single-user default: every
request is allowed, with write rights, as the web page itself is (and credentials are not even checked, since
OpenAI clients always send some key). As soon as either exists, every request to these paths needs one of the
credentials above; otherwise 401. Failed credentials are throttled per client address."""
from __future__ import annotations

import base64
import binascii
import hmac
import inspect
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from starlette.requests import Request

from assistant.config import Settings
from assistant.interfaces.http.failures import BodyTooLarge, error_response
from assistant.interfaces.http.tokens import TokenStore

PREFIXES = ("/api/v1", "/v1/", "/mcp")
JSON_LIMIT = 1024 * 1024  # questions and charter texts; a 10 MB body is refused before it is read
UPLOAD_PATHS = ("/api/v1/documents", "/api/v1/charter/check")


@dataclass(frozen=True)
class Principal:
    name: str
    write: bool
    via: str  # open | login | token


class Throttle:
    """At most `limit` failed credentials per client address in `window` seconds; then 429 until they age out."""

    def __init__(self, limit: int = 10, window: float = 60.0):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque:
        failures = self._failures[client]
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures

    def blocked(self, client: str) -> float:
        """Seconds until `client` may try again (0: not blocked)."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            return failures[0] + self.window - now if len(failures) >= self.limit else 0.0

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="policy-assistant"'}


class Gate:
    """Decides who a request comes from (see the module's docstring)."""

    def __init__(self, settings: Settings, tokens: TokenStore, throttle: Throttle | None = None):
        self.users = dict(settings.auth)
        self.tokens = tokens
        self.throttle = throttle or Throttle()

    def open(self) -> bool:
        return not self.users and not self.tokens.any()

    async def identify(self, request: Request) -> Principal:
        if self.open():
            return Principal("local", True, "open")
        client = request.client.host if request.client else "?"
        wait = self.throttle.blocked(client)
        if wait:
            raise Refused(429, "too_many_requests", f"登录失败次数过多，请 {int(wait) + 1} 秒后再试。",
                          {"Retry-After": str(int(wait) + 1)})
        header = request.headers.get("authorization", "")
        if header:
            principal = self._from_header(header)
            if principal is None:
                self.throttle.failed(client)
                raise Refused(401, "invalid_credentials", "API 令牌或用户名密码无效。", _CHALLENGE)
            return principal
        user = await web_session_user(request)
        if user is not None:
            return Principal(user, True, "login")
        raise Refused(401, "unauthorized", "需要登录：请在请求头中提供 Authorization: Bearer <API 令牌>"
                      "（policy-assistant token create 生成），或使用网页登录的用户名和密码。", _CHALLENGE)

    def _from_header(self, header: str) -> Principal | None:
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            info = self.tokens.verify(value)
            return Principal(info.name, info.write, "token") if info else None
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            known = self.users.get(user)
            if known is not None and hmac.compare_digest(known.encode(), password.encode()):
                return Principal(user, True, "login")
        return None


async def web_session_user(request: Request) -> str | None:
    """The user logged in to the web app (Gradio, mounted on the same server) with this request's cookie,
    decided as Gradio decides it for its own routes (its `get_current_user`)."""
    for route in getattr(request.app, "routes", ()):
        web = getattr(route, "app", None)
        if not hasattr(web, "tokens") or not hasattr(web, "cookie_id"):
            continue
        if getattr(web, "auth_dependency", None) is not None:  # a login scheme other than Gradio's own
            user = web.auth_dependency(request)
            return await user if inspect.isawaitable(user) else user
        cookie = request.cookies.get(f"access-token-{web.cookie_id}") or \
            request.cookies.get(f"access-token-unsecure-{web.cookie_id}")
        return web.tokens.get(cookie) if cookie else None
    return None


def _limit(path: str, method: str, settings: Settings) -> int:
    if method == "POST" and path.rstrip("/") in UPLOAD_PATHS:
        return settings.max_ingest_mb * 1024 * 1024 + 64 * 1024  # the file plus the multipart envelope
    return JSON_LIMIT


class Guard:
    """ASGI middleware: body size limits and credentials for the API's paths; other paths pass untouched."""

    def __init__(self, app, gate: Gate, settings: Settings):
        self.app, self.gate, self.settings = app, gate, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PREFIXES) and scope["path"] != "/v1":
            return await self.app(scope, receive, send)
        request = Request(scope)
        limit = _limit(scope["path"], scope["method"], self.settings)
        declared = request.headers.get("content-length", "")
        try:
            if declared.isdigit() and int(declared) > limit:
                raise Refused(413, "body_too_large", BodyTooLarge(limit).detail)
            principal = await self.gate.identify(request)
        except Refused as refused:
            return await error_response(refused.status, refused.code, refused.message,
                                        headers=refused.headers)(scope, receive, send)
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, _capped(receive, limit), send)


def _capped(receive, limit: int):
    """`receive` that raises BodyTooLarge once more than `limit` bytes arrived (bodies without a length)."""
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped


def principal(request: Request) -> Principal:
    # fails closed: a route the guard did not see gets no write rights
    return request.scope.get("state", {}).get("principal") or Principal("anonymous", False, "none")
