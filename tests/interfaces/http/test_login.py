"""The real server with ASSISTANT_AUTH set: the API, /v1 and /mcp refuse requests without credentials; the web
login (a browser's session or the same user and password) and API tokens get in; a read-only token cannot
change the library; a token revoked from the CLI stops working at once."""
from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.conftest import ROOT
from tests.support.samples import ZHUZHOU

pytestmark = pytest.mark.integration

USER, PASSWORD = "principal", "s3cret-pass"
ASK = {"question": "长沙集团化办学的合作期限是多久？"}


def token(live, *args) -> str:
    """`policy-assistant token create ...` against the server's data directory, as an operator runs it."""
    done = subprocess.run([sys.executable, "-m", "assistant", "token", *args], cwd=ROOT, env=live.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[0] if args[0] == "create" else ""


def test_nothing_answers_without_credentials(locked):
    with httpx.Client(base_url=locked.url, timeout=60) as client:
        for method, path in (("post", "/api/v1/ask"), ("get", "/api/v1/documents"), ("get", "/api/v1/docs"),
                             ("get", "/api/v1/openapi.json"), ("get", "/v1/models"), ("post", "/v1/chat/completions"),
                             ("post", "/mcp"), ("delete", "/api/v1/documents/changsha-jituan-2020")):
            response = client.request(method.upper(), path, json=ASK)
            assert response.status_code == 401, (path, response.text)
            assert response.json()["error"]["code"] == "unauthorized"
        wrong = client.post("/api/v1/ask", json=ASK, auth=(USER, "wrong"))
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"


def test_the_web_login_opens_the_api(locked):
    with httpx.Client(base_url=locked.url, timeout=60) as client:
        assert client.post("/api/v1/ask", json=ASK, auth=(USER, PASSWORD)).json()["citations"]
        assert client.post("/login", data={"username": USER, "password": "wrong"}).status_code in (400, 401)
        assert client.get("/api/v1/documents").status_code == 401
        assert client.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        assert len(client.get("/api/v1/documents").json()) == 6  # the browser's session cookie
        assert client.get("/api/v1/docs").status_code == 200


def test_tokens_read_write_and_revoked(locked):
    reader, writer = token(locked, "create", "reader"), token(locked, "create", "uploader", "--write")
    files = {"file": ("zhuzhou.txt", ZHUZHOU.encode(), "text/plain")}
    before = locked.state()
    with httpx.Client(base_url=locked.url, timeout=120) as client:
        as_reader = {"Authorization": f"Bearer {reader}"}
        assert client.post("/api/v1/ask", json=ASK, headers=as_reader).json()["citations"]
        denied = client.post("/api/v1/documents", files=files, headers=as_reader)
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "write_forbidden"
        assert client.delete("/api/v1/documents/changsha-jituan-2020", headers=as_reader).status_code == 403
        assert locked.state() == before
        as_writer = {"Authorization": f"Bearer {writer}"}
        added = client.post("/api/v1/documents", files=files, headers=as_writer).json()
        assert added["action"] == "added"
        assert client.delete(f"/api/v1/documents/{added['doc_id']}", headers=as_writer).status_code == 200
        token(locked, "revoke", "reader")
        assert client.post("/api/v1/ask", json=ASK, headers=as_reader).status_code == 401


def test_the_web_page_still_needs_its_login(locked):
    from gradio_client import Client

    with pytest.raises(Exception):
        Client(locked.url + "/", verbose=False).predict(ASK["question"], [], api_name="/ask")
    reply = Client(locked.url + "/", auth=(USER, PASSWORD), verbose=False).predict(ASK["question"], [], api_name="/ask")
    assert "合作时限一般为六年" in reply
