"""The web app's request guard in process (issue 19 items 5-6; RELIABILITY 19, 29, 30): with ASSISTANT_AUTH every
route Gradio registers needs the session except the login page, failed logins are throttled per client, and
a named endpoint's call with a body of the wrong shape gets a clear 400. A small Gradio app mounted the way the
real one is, driven through Starlette's TestClient; tests/interfaces/web/test_app_guard.py does the same against
the real app in a server process."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import gradio as gr
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.interfaces.web import guard
from assistant.interfaces.web.common import discard_upload

pytestmark = pytest.mark.unit

USER, PASSWORD = "principal", "s3cret-pass"
PUBLIC = {("GET", "/"), ("HEAD", "/"), ("POST", "/login"), ("POST", "/login/"), ("GET", "/favicon.ico"),
          ("GET", "/theme.css"), ("GET", "/robots.txt"), ("GET", "/manifest.json")}


def _settings(**overrides) -> Settings:
    values = dict(corpus_dir=Path("."), index_dir=Path("."), auth=((USER, PASSWORD),), login_max_failures=3,
                  login_window=60.0)
    values.update(overrides)
    return Settings(**values)


def _demo() -> gr.Blocks:
    def ask(message: str, cities: list[str] | None = None) -> str:
        return f"{message}|{cities!r}"

    with gr.Blocks() as demo:
        box = gr.Textbox()
        upload = gr.File(type="filepath")
        button = gr.Button()
        button.click(lambda text: text, box, box)
        upload.upload(lambda path: path, upload, box)
        gr.api(ask, api_name="ask")
    return demo


def _outer() -> FastAPI:
    """The server the web app is mounted on, without routes of its own (as the HTTP API's keeps its own under
    /api/v1): every other path is Gradio's."""
    return FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


def _client(settings: Settings) -> TestClient:
    app = gr.mount_gradio_app(_outer(), _demo().queue(), path="/", auth=list(settings.auth) or None,
                              app_kwargs=guard.app_kwargs(settings))
    guard.mounted(app)  # as web/app.py's main() does
    return TestClient(app, client=("203.0.113.7", 50000))


@pytest.fixture
def client():
    with _client(_settings()) as c:
        yield c


@pytest.fixture(scope="module")
def open_client():
    """The local single-user default: no login, bodies still checked."""
    with _client(_settings(auth=())) as c:
        yield c


def _routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route of the mounted Gradio app, path parameters filled in."""
    gradio_app = next(r.app for r in app.routes if getattr(r, "app", None) is not None and hasattr(r.app, "tokens"))
    found = []

    def walk(routes, prefix=""):
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI's included router
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif getattr(route, "path", None) is not None:
                for method in sorted(getattr(route, "methods", None) or {"GET"}):
                    found.append((method, re.sub(r"\{[^}]+\}", "x", prefix + route.path)))
    walk(gradio_app.routes)
    return sorted(set(found))


def test_every_route_but_the_login_page_needs_the_session(client):
    routes = _routes(client.app)
    assert ("POST", "/gradio_api/cancel") in routes and ("POST", "/gradio_api/upload") in routes
    assert len(routes) > 60
    for method, path in routes:
        if (method, path) in PUBLIC or path.startswith(("/assets/", "/static/", "/pwa_icon")):
            continue
        response = client.request(method, path, json={"data": ["q", []]})
        assert response.status_code == 401, (method, path, response.status_code, response.text[:200])
        assert method == "HEAD" or "需要登录" in response.json()["detail"]


def test_the_login_page_itself_is_served_and_a_login_opens_every_route(client):
    assert client.get("/").status_code == 200
    assert client.post("/gradio_api/cancel", json={"session_hash": "x", "fn_index": 0, "event_id": "e"}).status_code == 401
    assert client.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
    assert client.get("/gradio_api/info").status_code == 200
    assert client.post("/gradio_api/reset", json={"event_id": "e"}).status_code == 200
    reply = client.post("/gradio_api/run/ask", json={"data": ["问题", ["长沙市"]]})
    assert reply.status_code == 200 and reply.json()["data"] == ["问题|['长沙市']"]


def test_failed_logins_are_throttled_per_client_and_logged(caplog):
    settings = _settings()
    app = gr.mount_gradio_app(_outer(), _demo().queue(), path="/", auth=list(settings.auth),
                              app_kwargs=guard.app_kwargs(settings))
    guard.mounted(app)
    with caplog.at_level(logging.WARNING, logger="assistant.auth"), \
            TestClient(app, client=("198.51.100.1", 1)) as attacker, TestClient(app, client=("198.51.100.2", 1)) as user:
        codes = [attacker.post("/login", data={"username": USER, "password": f"guess{i}"}).status_code for i in range(6)]
        assert codes == [400, 400, 400, 429, 429, 429]
        blocked = attacker.post("/login", data={"username": USER, "password": PASSWORD})
        assert blocked.status_code == 429 and "登录失败次数过多" in blocked.json()["detail"], "even the right password"
        assert int(blocked.headers["retry-after"]) > 0
        assert user.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200, "per client"
    failures = [r.getMessage() for r in caplog.records if "网页登录失败" in r.getMessage()]
    assert len(failures) == 3 and "198.51.100.1" in failures[0] and "'principal'" in failures[0]
    assert any("网页登录被限制" in r.getMessage() for r in caplog.records)


def test_the_throttle_counts_attempts_in_flight():
    throttle = guard.Throttle(limit=3, window=60)
    started = [throttle.begin("c") for _ in range(5)]
    assert started[:3] == [0.0, 0.0, 0.0] and all(w > 0 for w in started[3:]), "a parallel burst is cut at the limit"
    for _ in range(3):
        throttle.end("c", failed=True)
    assert throttle.begin("c") > 0 and throttle.failures("c") == 3
    assert throttle.begin("other") == 0.0


@pytest.mark.parametrize("body, message", [
    (b"", "请求体为空"),
    (b"{not json", "不是有效的 JSON"),
    (b"[]", "应为 JSON 对象"),
    (b"null", "应为 JSON 对象"),
    (b"{}", "缺少 data 列表"),
    (b'{"data": "x"}', "缺少 data 列表"),
    (b'{"data": []}', "参数不足：/ask 需要 2 个参数，收到 0 个"),
    (b'{"data": ["only the question"]}', "参数不足"),
])
@pytest.mark.parametrize("route", ["/gradio_api/run/ask", "/gradio_api/call/ask", "/gradio_api/api/ask"])
def test_a_call_with_a_body_of_the_wrong_shape_gets_a_clear_400(open_client, body, message, route):
    response = open_client.post(route, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]


def test_a_well_formed_call_passes_the_check(open_client):
    reply = open_client.post("/gradio_api/run/ask", json={"data": ["问题", "长沙市"]})
    assert reply.status_code == 200 and reply.json()["data"] == ["问题|'长沙市'"]


def test_an_upload_is_removed_only_inside_the_upload_folder(tmp_path, monkeypatch):
    folder = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    inside = folder / "abc123" / "draft.txt"
    inside.parent.mkdir(parents=True)
    inside.write_text("x")
    outside = tmp_path / "keep.txt"
    outside.write_text("x")
    discard_upload(str(inside))
    discard_upload(str(outside))
    discard_upload(None)
    assert not inside.exists() and not inside.parent.exists() and outside.exists()
