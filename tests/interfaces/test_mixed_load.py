"""Questions while documents are imported and removed (issue 19 item 3; RELIABILITY 20, 27): five clients ask
without a single error and never see a half-built index — through the web app while another process writes
(a short run of benchmarks/bench_mixed.py), and in one process sharing the facade with the writer."""
from __future__ import annotations

import sys
import threading

import pytest

from assistant.interfaces.facade import Assistant

from tests.conftest import ROOT, fresh_index, save_cache, stop_process
from tests.interfaces.web.test_app import start_app

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_mixed  # noqa: E402

pytestmark = pytest.mark.integration


def test_five_clients_ask_through_the_web_app_while_another_process_imports_and_removes(
        tmp_path_factory, shared_cache, corpus_copy):
    proc, url, index_dir = start_app(tmp_path_factory, shared_cache, ASSISTANT_CORPUS_DIR=str(corpus_copy))
    try:
        tally = bench_mixed.run(url, corpus_copy, index_dir, clients=5, seconds=20, min_rounds=1)
    finally:
        stop_process(proc)
    print("\n" + bench_mixed.report(tally, 5))
    assert tally.errors == []
    assert len(tally.latencies) >= 20 and tally.imports >= 3 and tally.removals >= 3
    assert tally.answered_moving and tally.refused_moving, "questions met the documents both present and absent"


def test_questions_in_the_same_process_as_imports_and_removals_never_fail(corpus_copy, tmp_path, shared_cache):
    index_dir = fresh_index(tmp_path, shared_cache)
    a = Assistant(corpus_dir=corpus_copy, index_dir=index_dir).open()
    save_cache(index_dir, shared_cache)
    stop, errors, answers = threading.Event(), [], []

    def ask(i: int) -> None:
        questions = [q for q, _ in bench_mixed.STEADY] + [q for *_, q in bench_mixed.COMING_AND_GOING]
        while not stop.is_set():
            question = questions[i % len(questions)]
            i += 1
            try:
                answer = a.ask(question)
                a.retrieve(question, k=3)
            except Exception as exc:  # noqa: BLE001 — the test's subject
                errors.append(f"{question}: {type(exc).__name__}: {exc}")
                continue
            answers.append(answer)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    try:
        for _ in range(2):
            for city, prefix, _ in bench_mixed.COMING_AND_GOING:
                report = a.ingest(bench_mixed.document(city, prefix), f"{city}.txt")
                a.remove_document(report.doc_id)
    finally:
        stop.set()
        for t in threads:
            t.join(120)
    save_cache(index_dir, shared_cache)
    assert errors == [] and len(answers) >= 10
    assert all(not ans.abstained or "没有" in ans.answer for ans in answers)
