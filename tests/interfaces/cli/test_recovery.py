"""Recovery after `kill -9` happens at start, saying so, not silently inside the next user's question (issue 19
item 4; RELIABILITY 10, 28): the CLI and the web app print 恢复中… and 恢复完成…, and `docs list` reports the
state of an index that exists (never 未建索引 for it) without recovering anything itself."""
from __future__ import annotations

import shutil
import subprocess
import sys
import uuid

import pytest

from assistant.corpus.library import JOURNAL
from assistant.index.segments import PENDING
from assistant.interfaces.facade import Assistant

from tests.conftest import CORPUS, ROOT, free_port, fresh_index, run_env, save_cache, stop_process, wait_for_http
from tests.support.kill import kill_mid_write
from tests.support.samples import ZHUZHOU

pytestmark = pytest.mark.integration

QUESTION = "长沙集团化办学的合作期限是多久？"


@pytest.fixture
def killed(tmp_path, shared_cache):
    """A corpus and index whose ingest was killed with SIGKILL in the middle of the index write."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index_dir = fresh_index(tmp_path, shared_cache)
    Assistant(corpus_dir=corpus, index_dir=index_dir).open()
    save_cache(index_dir, shared_cache)
    tag = uuid.uuid4().hex[:8]
    extra = "\n".join(f"五、补充要求{i}\n第{i}项补充要求（编号{tag}-{i}）：各成员校应当按期报送执行情况。" for i in range(1, 25))
    source = tmp_path / "loudi.txt"
    source.write_text(ZHUZHOU.replace("株洲", "娄底").replace("株教发", "娄教发") + extra, encoding="utf-8")
    env = run_env(ASSISTANT_CORPUS_DIR=str(corpus), ASSISTANT_INDEX_DIR=str(index_dir))
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", str(source)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kill_mid_write(proc, index_dir, 180)
    return corpus, index_dir, env


def _cli(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_cli_recovers_at_start_with_a_message_and_docs_list_reports_the_state(killed):
    corpus, index_dir, env = killed
    listing = _cli("docs", "list", env=env)
    assert listing.returncode == 0, listing.stderr
    built = [line for line in listing.stdout.splitlines() if "｜内置" in line]
    assert built and all("未建索引" not in line and "个条款" in line for line in built), listing.stdout
    assert "待恢复：" in listing.stderr and "上次写入索引被中断" in listing.stderr, listing.stderr
    assert (index_dir / PENDING).exists(), "listing documents recovers nothing"

    asked = _cli("ask", QUESTION, env=env)
    assert asked.returncode == 0, asked.stderr
    lines = asked.stderr.splitlines()
    assert lines[0].startswith("恢复中：") and "上次写入索引被中断" in lines[0], asked.stderr
    assert any(line.startswith("恢复完成：索引") for line in lines), asked.stderr
    assert "合作时限一般为六年" in asked.stdout
    assert not (index_dir / PENDING).exists() and not (corpus / JOURNAL).exists()

    again = _cli("ask", QUESTION, env=env)
    assert again.returncode == 0 and "恢复" not in again.stderr, "nothing left to recover"
    listing = _cli("docs", "list", env=env)
    assert "待恢复" not in listing.stderr and "未建索引" not in listing.stdout


def test_the_web_app_recovers_before_it_serves_and_says_so(killed):
    corpus, index_dir, env = killed
    port = free_port()
    env = {**env, "ASSISTANT_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, proc, 300)
        assert not (index_dir / PENDING).exists(), "recovered before the first request was served"
        from gradio_client import Client

        reply = Client(url, verbose=False).predict(QUESTION, [], api_name="/ask")
        assert "合作时限一般为六年" in reply
    finally:
        stop_process(proc)
    log = proc.stdout.read()
    recovering = [line for line in log.splitlines() if line.startswith("恢复中：")]
    assert len(recovering) == 1 and "上次写入索引被中断" in recovering[0] and "恢复完成：" in log, log[-2000:]
    assert log.index("恢复中") < log.index("恢复完成")
