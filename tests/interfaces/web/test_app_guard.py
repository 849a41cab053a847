"""The real web app in a server process on loopback (issue 19 items 5-6; RELIABILITY 19, 29, 30): a malformed
ASSISTANT_AUTH stops start-up with one line; with login every route but the login page needs the session and
failed logins are throttled and logged; uploads do not pile up in the temporary directory; a body of the wrong
shape gets a 4xx; `cities` sent as a string is one city."""
from __future__ import annotations

import http.cookiejar
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import CORPUS, ROOT, free_port, fresh_index, run_env, save_cache, stop_process, wait_for_http

pytestmark = pytest.mark.integration

USER, PASSWORD = "principal", "s3cret-pass"
QUESTION = "合作期限是多久？"


def _start(tmp_path_factory, shared_cache, **env_extra):
    root = tmp_path_factory.mktemp("guarded-app")
    index_dir = fresh_index(root, shared_cache)
    port = free_port()
    uploads = root / "uploads"
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_PORT=str(port),
                  GRADIO_TEMP_DIR=str(uploads), **env_extra)
    log = open(root / "app.log", "w+")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    wait_for_http(url, proc, 300)
    save_cache(index_dir, shared_cache)
    return proc, url, uploads, root / "app.log"


def _request(url: str, method: str = "GET", body: bytes | None = None, content_type: str = "application/json",
             opener=None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _login(url: str, password: str, opener=None) -> int:
    body = urllib.parse.urlencode({"username": USER, "password": password}).encode()
    return _request(url + "login", "POST", body, "application/x-www-form-urlencoded", opener)[0]


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----policyassistant"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _call(url: str, api: str, data, opener=None) -> tuple[int, str]:
    """A named endpoint through Gradio's two-step call API: the final event's data."""
    status, body = _request(url + f"gradio_api/call/{api}", "POST", json.dumps({"data": data}).encode(), opener=opener)
    if status != 200:
        return status, body.decode("utf-8", "replace")
    event = json.loads(body)["event_id"]
    _, stream = _request(url + f"gradio_api/call/{api}/{event}", opener=opener)
    lines = stream.decode("utf-8").splitlines()
    data = [json.loads(line[len("data: "):]) for line in lines if line.startswith("data: ")]
    return 200, json.dumps(data[-1], ensure_ascii=False) if data else "\n".join(lines)


# ---------------------------------------------------------------- start-up
@pytest.mark.parametrize("command", [["app.py"], ["-m", "assistant", "serve"]], ids=["app.py", "serve"])
@pytest.mark.parametrize("value", ["admin", "admin:", ":secret", "admin:ok,broken"])
def test_a_malformed_login_setting_stops_start_up_with_one_line(command, value, tmp_path):
    started = time.monotonic()
    result = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=run_env(ASSISTANT_AUTH=value, ASSISTANT_INDEX_DIR=str(tmp_path / "index"),
                                        ASSISTANT_PORT=str(free_port())))
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误：ASSISTANT_AUTH 格式错误"), result.stderr
    assert "服务未启动" in lines[0] and "Traceback" not in result.stderr
    assert time.monotonic() - started < 60, "refused before the index or the model is loaded"
    assert not (tmp_path / "index").exists()


# ---------------------------------------------------------------- with login
@pytest.fixture(scope="module")
def guarded(tmp_path_factory, shared_cache):
    proc, url, uploads, log = _start(tmp_path_factory, shared_cache, ASSISTANT_AUTH=f"{USER}:{PASSWORD}",
                                     ASSISTANT_LOGIN_MAX_FAILURES="3", ASSISTANT_LOGIN_WINDOW="120")
    yield url, log
    stop_process(proc)


UNAUTHENTICATED = [
    ("POST", "gradio_api/cancel", b'{"session_hash": "x", "fn_index": 0, "event_id": "e"}'),
    ("POST", "gradio_api/reset", b'{"event_id": "e"}'),
    ("GET", "gradio_api/heartbeat/abc", None),
    ("GET", "gradio_api/startup-events", None),
    ("GET", "gradio_api/info", None),
    ("GET", "config", None),
    ("POST", "gradio_api/call/ask", b'{"data": ["\xe5\x90\x88\xe4\xbd\x9c", []]}'),
    ("POST", "gradio_api/run/ask", b'{"data": ["\xe5\x90\x88\xe4\xbd\x9c", []]}'),
    ("POST", "gradio_api/queue/join", b'{"data": [], "fn_index": 0, "session_hash": "x"}'),
    ("GET", "gradio_api/queue/data?session_hash=x", None),
    ("GET", "gradio_api/upload_progress?upload_id=x", None),
    ("GET", "gradio_api/file=/etc/passwd", None),
    ("GET", "monitoring", None),
]


def test_without_a_session_every_route_but_the_login_page_is_refused(guarded):
    url, _ = guarded
    status, page = _request(url)
    assert status == 200, "the login page"
    for method, path, body in UNAUTHENTICATED:
        status, answer = _request(url + path, method, body)
        assert status == 401, (method, path, status, answer[:200])
    body, content_type = _multipart("draft.txt", "关于集团化办学的通知".encode())
    status, _ = _request(url + "gradio_api/upload", "POST", body, content_type)
    assert status == 401, "anonymous uploads are refused"


def test_a_logged_in_session_reaches_every_route_and_the_ask_api(guarded):
    url, _ = guarded
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    assert _login(url, PASSWORD, opener) == 200
    assert _request(url + "gradio_api/info", opener=opener)[0] == 200
    assert _request(url + "gradio_api/reset", "POST", b'{"event_id": "e"}', opener=opener)[0] == 200
    status, stream = _call(url, "ask", [QUESTION, "长沙市"], opener)
    assert status == 200 and "合作时限一般为六年" in stream and "长沙市" in stream, stream[:500]
    from gradio_client import Client

    reply = Client(url, auth=(USER, PASSWORD), verbose=False).predict("长沙集团化办学的合作期限是多久？", [],
                                                                         api_name="/ask")
    assert "合作时限一般为六年" in reply


def test_failed_logins_are_throttled_and_logged(guarded):
    """Last in this module: it locks loopback out for the window."""
    url, log = guarded
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda i: _login(url, f"guess-{i}"), range(10)))
    assert codes.count(400) <= 3 and codes.count(429) >= 7, codes
    assert _login(url, PASSWORD) == 429, "blocked even with the right password until the window passes"
    text = log.read_text(encoding="utf-8")
    assert text.count("网页登录失败") == codes.count(400) and "网页登录被限制" in text, text[-2000:]


# ---------------------------------------------------------------- without login (the local default)
@pytest.fixture(scope="module")
def open_app(tmp_path_factory, shared_cache):
    proc, url, uploads, _ = _start(tmp_path_factory, shared_cache, ASSISTANT_UPLOAD_KEEP_SECONDS="2")
    yield url, uploads
    stop_process(proc)


def test_uploads_do_not_pile_up_in_the_temporary_directory(open_app):
    url, uploads = open_app
    for i in range(5):
        body, content_type = _multipart(f"upload-{i}.txt", b"x" * (1024 * 1024))
        assert _request(url + "gradio_api/upload", "POST", body, content_type)[0] == 200
    stored = [p for p in uploads.rglob("upload-*.txt")]
    assert len(stored) == 5
    deadline = time.monotonic() + 20
    while any(p.exists() for p in stored) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(p.exists() for p in stored), "uploads never used are removed after ASSISTANT_UPLOAD_KEEP_SECONDS"


@pytest.mark.parametrize("body", [b"", b"{}", b"[]", b"null", b'{"data": []}', b'{"data": ["q"]}', b"{not json",
                                  b'{"data": "q"}'])
@pytest.mark.parametrize("route", ["gradio_api/call/ask", "gradio_api/run/ask"])
def test_a_body_of_the_wrong_shape_gets_a_clear_4xx(open_app, route, body):
    url, _ = open_app
    status, answer = _request(url + route, "POST", body)
    assert status == 400, (status, answer[:300])
    assert any(word in json.loads(answer)["detail"] for word in ("请求体", "参数不足"))


def test_cities_sent_as_a_string_are_one_city_not_characters(open_app):
    url, _ = open_app
    status, stream = _call(url, "ask", [QUESTION, "长沙市"])
    assert status == 200 and "合作时限一般为六年" in stream and "长沙市" in stream, stream[:500]
    status, stream = _call(url, "ask", [QUESTION, "长沙市、青岛市"])
    assert "长沙市" in stream and "青岛市" in stream, stream[:500]
    status, stream = _call(url, "ask", [QUESTION, 42])
    assert status == 200 and "城市应为城市名称的列表" in stream, stream[:500]
