"""The same code against a real Chroma server (`chroma run` on loopback), as for users who outgrow one machine."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, fresh_index, free_port, wait_for_http

pytestmark = pytest.mark.integration


@pytest.fixture
def chroma_server(tmp_path):
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, 60)
    yield port
    proc.terminate()
    proc.wait(10)


def test_assistant_over_a_chroma_server(chroma_server, tmp_path, shared_cache, monkeypatch):
    from assistant import Assistant

    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(chroma_server))
    index_dir = fresh_index(tmp_path, shared_cache)
    a = Assistant(corpus_dir=CORPUS, index_dir=index_dir)
    assert a.snapshot.manifest["chroma"] == f"http://127.0.0.1:{chroma_server}"
    assert not (index_dir / "chroma").exists(), "vectors live on the server, not on local disk"
    answer = a.ask("长沙集团化办学的合作期限是多久？")
    assert "合作时限一般为六年" in answer.citations[0].text
    # a second client (another process or host) sees the same collection
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    assert client.get_collection("policy_clauses").count() == len(a.snapshot.records)
