"""Who may call the API: the open local default, API tokens (stored hashed, read-only unless --write, revoked at
once), the web login's user and password, and throttling of failed credentials."""
from __future__ import annotations

import base64
import sqlite3

import pytest
from fastapi.testclient import TestClient

from assistant.errors import ConfigError
from assistant.interfaces.cli.main import main as cli
from assistant.interfaces.http import create_server
from assistant.interfaces.http.guard import Throttle
from assistant.interfaces.http.tokens import TokenStore
from tests.support.fake_assistant import FakeAssistant

pytestmark = pytest.mark.unit

UPLOAD = {"file": ("方案.txt", "株洲市教育局……".encode(), "text/plain")}
ASK = {"question": "长沙的合作期限？"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def serve(fake) -> TestClient:
    return TestClient(create_server(fake), raise_server_exceptions=False)


def test_tokens_are_stored_hashed_and_revoked(tmp_path):
    store = TokenStore(tmp_path)
    assert store.list() == [] and not store.any() and not (tmp_path / TokenStore.FILE).exists()  # reading writes nothing
    token = store.create("bot")
    writer = store.create("uploader", write=True)
    assert token.startswith("pa_") and len(token) > 40 and token != writer
    assert token.encode() not in (tmp_path / TokenStore.FILE).read_bytes()
    assert store.verify(token).write is False and store.verify(writer).write is True
    assert store.verify(token + "x") is None and store.verify("") is None
    with pytest.raises(ConfigError):
        store.create("bot")
    with pytest.raises(ConfigError):
        store.create("../etc")
    store.revoke("bot")
    assert store.verify(token) is None and [t.name for t in store.list()] == ["uploader"]
    with pytest.raises(ConfigError):
        store.revoke("bot")


def test_token_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    assert cli(["token", "create", "dify", "--write"]) == 0
    secret = capsys.readouterr().out.splitlines()[0]
    assert TokenStore(tmp_path).verify(secret).name == "dify"
    assert cli(["token", "list"]) == 0 and "dify｜读写" in capsys.readouterr().out
    assert cli(["token", "create", "dify"]) == 2 and "已有名为 dify 的令牌" in capsys.readouterr().err
    assert cli(["token", "revoke", "dify"]) == 0 and TokenStore(tmp_path).verify(secret) is None
    assert cli(["token", "revoke", "dify"]) == 2


def test_the_local_default_needs_no_credentials_and_ignores_any_sent(tmp_path):
    fake = FakeAssistant(tmp_path)
    with serve(fake) as client:
        assert client.post("/api/v1/ask", json=ASK).status_code == 200
        assert client.post("/api/v1/ask", json=ASK, headers=bearer("sk-anything")).status_code == 200  # OpenAI clients
        assert client.post("/api/v1/documents", files=UPLOAD).status_code == 200


def test_once_a_token_exists_every_request_needs_credentials(tmp_path):
    fake = FakeAssistant(tmp_path)
    reader = TokenStore(tmp_path).create("reader")
    with serve(fake) as client:
        for method, path in (("get", "/api/v1/health"), ("get", "/api/v1/documents"), ("get", "/api/v1/docs"),
                             ("get", "/api/v1/openapi.json"), ("get", "/v1/models"), ("post", "/mcp")):
            refused = getattr(client, method)(path)
            assert refused.status_code == 401, path
            assert refused.json()["error"]["code"] == "unauthorized" and "WWW-Authenticate" in refused.headers
        assert client.post("/api/v1/ask", json=ASK, headers=bearer("pa_wrong")).json()["error"]["code"] == \
            "invalid_credentials"
        assert client.post("/api/v1/ask", json=ASK, headers=bearer(reader)).status_code == 200
    assert [c[0] for c in fake.calls] == ["ask"]


def test_a_read_only_token_cannot_upload_or_delete(tmp_path):
    fake = FakeAssistant(tmp_path)
    store = TokenStore(tmp_path)
    reader, writer = store.create("reader"), store.create("writer", write=True)
    with serve(fake) as client:
        refused = client.post("/api/v1/documents", files=UPLOAD, headers=bearer(reader))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "write_forbidden"
        assert client.delete("/api/v1/documents/cs", headers=bearer(reader)).status_code == 403
        assert fake.writes() == [] and list(fake.documents) == ["cs"]
        assert client.post("/api/v1/documents", files=UPLOAD, headers=bearer(writer)).status_code == 200
        store.revoke("writer")  # takes effect on the next request, without a restart
        assert client.delete("/api/v1/documents/cs", headers=bearer(writer)).status_code == 401
    assert list(fake.documents) == ["cs", "new"]


def test_the_web_login_works_for_programs_with_full_rights(tmp_path):
    fake = FakeAssistant(tmp_path, auth=(("principal", "s3cret:pass"),))
    with serve(fake) as client:
        assert client.post("/api/v1/ask", json=ASK).status_code == 401
        assert client.post("/api/v1/ask", json=ASK, headers=basic("principal", "wrong")).status_code == 401
        assert client.post("/api/v1/ask", json=ASK, headers={"Authorization": "Basic %%%"}).status_code == 401
        assert client.post("/api/v1/ask", json=ASK, headers=basic("principal", "s3cret:pass")).status_code == 200
        assert client.post("/api/v1/documents", files=UPLOAD, headers=basic("principal", "s3cret:pass")).status_code == 200


def test_failed_credentials_are_throttled_per_client(tmp_path):
    fake = FakeAssistant(tmp_path, auth=(("principal", "s3cret"),))
    with serve(fake) as client:
        codes = [client.get("/api/v1/health", headers=basic("principal", f"guess{i}")).status_code for i in range(12)]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
        blocked = client.get("/api/v1/health", headers=basic("principal", "s3cret"))  # even the right one, for now
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
        assert "秒后再试" in blocked.json()["error"]["message"]


def test_the_throttle_forgets_old_failures(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("assistant.interfaces.http.guard.time.monotonic", lambda: clock[0])
    throttle = Throttle(limit=2, window=60)
    throttle.failed("a")
    throttle.failed("a")
    assert throttle.blocked("a") == 60 and throttle.blocked("b") == 0
    clock[0] += 61
    assert throttle.blocked("a") == 0


def test_a_corrupt_token_database_is_an_error_not_an_open_door(tmp_path):
    (tmp_path / TokenStore.FILE).write_bytes(b"not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        TokenStore(tmp_path).any()
    fake = FakeAssistant(tmp_path)
    with serve(fake) as client:
        assert client.post("/api/v1/ask", json=ASK).status_code == 500
    assert fake.calls == []


class WebApp:
    """What the guard reads of the mounted Gradio app: its session tokens, cookie id and login dependency."""

    def __init__(self, tokens=None, auth_dependency=None):
        self.tokens, self.cookie_id, self.auth_dependency = tokens or {}, "abc", auth_dependency

    async def __call__(self, scope, receive, send):  # an ASGI app, never called here
        raise AssertionError


@pytest.mark.parametrize("web, cookie, allowed", [
    (WebApp({"tok": "principal"}), "tok", True),
    (WebApp({"tok": "principal"}), "stale", False),
    (WebApp(auth_dependency=lambda request: "sso-user" if request.cookies.get("sso") else None), "x", False),
])
def test_a_browser_logged_in_to_the_web_app_may_use_the_api(tmp_path, web, cookie, allowed):
    from starlette.routing import Mount

    fake = FakeAssistant(tmp_path, auth=(("principal", "s3cret"),))
    app = create_server(fake)
    app.router.routes.append(Mount("/", app=web))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.cookies.set("access-token-unsecure-abc", cookie)
        assert (client.post("/api/v1/ask", json=ASK).status_code == 200) is allowed
        client.cookies.set("sso", "1")
        sso = client.post("/api/v1/ask", json=ASK).status_code == 200
        assert sso is (allowed or web.auth_dependency is not None)
