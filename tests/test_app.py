"""The Gradio app as a real server process on loopback, called through its HTTP API."""
from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import CORPUS, ROOT, free_port, fresh_index, run_env, wait_for_http

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, shared_cache):
    index_dir = fresh_index(tmp_path_factory.mktemp("app"), shared_cache)
    port = free_port()
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(index_dir),
                  ASSISTANT_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    wait_for_http(url, proc, 180)
    yield url
    proc.terminate()
    proc.wait(20)


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
