"""Fixtures for the HTTP layer: the API app in-process over a stand-in facade (unit), and the real server
as a process on loopback (integration), one open and one with login, shared by the package's modules."""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT, free_port, fresh_index, run_env, save_cache, stop_process, wait_for_http
from tests.support.fake_assistant import FakeAssistant


@pytest.fixture
def fake(tmp_path):
    return FakeAssistant(tmp_path)


@pytest.fixture
def client(fake):
    """The API app in-process (no Gradio mounted) over the stand-in facade."""
    from fastapi.testclient import TestClient

    from assistant.interfaces.http import create_server

    with TestClient(create_server(fake), raise_server_exceptions=False) as c:
        yield c


# ---------------------------------------------------------------- the real server, as a process on loopback

@dataclass
class Live:
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    corpus: Path
    index: Path
    data: Path
    env: dict

    def state(self) -> tuple[bytes, bytes]:
        """The corpus and index manifests: a refused request must leave both byte for byte as they were."""
        return (self.corpus / "manifest.json").read_bytes(), (self.index / "manifest.json").read_bytes()


def start_server(work: Path, shared_cache: Path, **env_extra) -> tuple[subprocess.Popen, Live]:
    corpus = work / "corpus"
    shutil.copytree(CORPUS, corpus)  # uploads and removals write to the corpus: never the bundled one
    index = fresh_index(work, shared_cache)
    port = free_port()
    env = run_env(ASSISTANT_CORPUS_DIR=str(corpus), ASSISTANT_INDEX_DIR=str(index), ASSISTANT_DATA_DIR=str(work / "data"),
                  ASSISTANT_PORT=str(port), ASSISTANT_JIEBA_CACHE=str(work / "jieba"), **env_extra)
    # a package-scoped server starts before the autouse fixture cleans the environment: clean it here
    for name in [n for n in env if n.startswith("ASSISTANT_LLM_") or n in ("ASSISTANT_AUTH", "CHROMA_HOST")]:
        if name not in env_extra:
            del env[name]
    log = open(work / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(url + "/", proc, 300)
    save_cache(index, shared_cache)
    return proc, Live(url, corpus, index, work / "data", env)


@pytest.fixture(scope="package")
def live(tmp_path_factory, shared_cache):
    """The app as users start it (python app.py), in the local single-user default: no login, no tokens."""
    proc, server = start_server(tmp_path_factory.mktemp("live"), shared_cache)
    yield server
    stop_process(proc)


@pytest.fixture(scope="package")
def locked(tmp_path_factory, shared_cache):
    """The app with ASSISTANT_AUTH set; tests add API tokens to its data directory while it runs."""
    proc, server = start_server(tmp_path_factory.mktemp("locked"), shared_cache,
                                ASSISTANT_AUTH="principal:s3cret-pass")
    yield server
    stop_process(proc)
