"""The Gradio app as a real server process on loopback, called through its HTTP API."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.conftest import CORPUS, ROOT, free_port, fresh_index, run_env, save_cache, wait_for_http

pytestmark = pytest.mark.integration


def start_app(tmp_path_factory, shared_cache, **env_extra):
    index_dir = fresh_index(tmp_path_factory.mktemp("app"), shared_cache)
    port = free_port()
    env = run_env(**{"ASSISTANT_CORPUS_DIR": str(CORPUS), "ASSISTANT_INDEX_DIR": str(index_dir),
                     "ASSISTANT_DATA_DIR": str(index_dir.parent / "data"), "ASSISTANT_PORT": str(port), **env_extra})
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    wait_for_http(url, proc, 300)
    save_cache(index_dir, shared_cache)
    return proc, url, index_dir


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def app(tmp_path_factory, shared_cache):
    proc, url, index_dir = start_app(tmp_path_factory, shared_cache)
    yield url, index_dir
    stop(proc)


@pytest.fixture(scope="module")
def app_url(app):
    return app[0]


def test_app_answers_with_cited_clauses(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    reply = client.predict("长沙集团化办学的合作期限是多久？", [], api_name="/ask")
    assert "合作时限一般为六年" in reply and "引用条款" in reply and "长教通〔2020〕97号" in reply


def test_app_renders_html_in_questions_inert(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    reply = client.predict("<img src=x onerror=alert(1)> 北京的集团化办学", [], api_name="/ask")
    assert "<img" not in reply and "未找到依据" in reply


def test_app_binds_to_loopback_only(app_url):
    port = int(app_url.rsplit(":", 1)[1].strip("/"))
    listening = []  # local addresses of LISTEN sockets on the port, from the kernel's table
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            listening.append(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    assert listening == ["127.0.0.1"]


def test_app_serves_no_files_outside_its_own_data(app):
    """RELIABILITY 21: /etc/passwd, the index's chroma.sqlite3 and the code cannot be fetched."""
    url, index_dir = app
    data = index_dir.parent / "data" / "web"  # conversations, feedback, the browser key
    targets = ["/etc/passwd", str(index_dir / "chroma" / "chroma.sqlite3"), str(ROOT / "app.py"),
               str(CORPUS / "manifest.json"), "../../../etc/passwd", str(data / "app.sqlite3"),
               str(data / "browser-secret")]
    assert (data / "app.sqlite3").exists()
    for target in targets:
        for route in ("gradio_api/file=", "file="):
            try:
                with urllib.request.urlopen(url + route + target, timeout=10) as response:
                    body = response.read()
                    assert b"root:" not in body and b"SQLite format" not in body and response.status != 200, target
            except urllib.error.HTTPError as exc:
                assert exc.code in (403, 404), (target, exc.code)


def test_app_with_auth_refuses_unauthenticated_api_calls(tmp_path_factory, shared_cache):
    """RELIABILITY 19: with ASSISTANT_AUTH set, the API answers only after login."""
    from gradio_client import Client

    proc, url, _ = start_app(tmp_path_factory, shared_cache, ASSISTANT_AUTH="principal:s3cret-pass")
    try:
        request = urllib.request.Request(url + "gradio_api/call/ask", method="POST",
                                         data=json.dumps({"data": ["长沙集团化办学的合作期限是多久？", []]}).encode(),
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code in (401, 403)
        with pytest.raises(Exception):
            Client(url, verbose=False).predict("长沙集团化办学的合作期限是多久？", [], api_name="/ask")
        with pytest.raises(Exception):
            Client(url, auth=("principal", "wrong"), verbose=False)
        reply = Client(url, auth=("principal", "s3cret-pass"), verbose=False).predict(
            "长沙集团化办学的合作期限是多久？", [], api_name="/ask")
        assert "合作时限一般为六年" in reply
    finally:
        stop(proc)


def test_app_refuses_uploads_over_the_size_limit(app):
    """Uploads over 20 MB are refused by the server before anything reads them."""
    url, _ = app
    boundary = "----policyassistant"
    payload = b"x" * (21 * 1024 * 1024)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 413
