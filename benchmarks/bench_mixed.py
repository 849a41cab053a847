"""Mixed read/write load (`make bench`): questions from several clients while documents are imported and removed.

Starts app.py on a free loopback port over a copy of the bundled corpus (or uses --url with --corpus/--index of
an app already running), then for --seconds: --clients threads each ask questions through the app's `/ask` API
(gradio_client) one after another, while a writer in this process (another process than the app, as an
administrator's `policy-assistant ingest` would be) imports and removes documents in the same corpus and index.
Every answer must be right (a bundled document's clause, or for the documents that come and go: their clause
or a clean refusal); an error of any kind is counted. Prints p50/p95/max latency, throughput, the writer's
operations, and exits non-zero on any error.

    python benchmarks/bench_mixed.py [--clients 5] [--seconds 60]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_app import percentile, start_app  # noqa: E402

# question → a phrase its answer must contain (the bundled documents never change during the run)
STEADY = [
    ("长沙集团化办学的合作期限是多久？", "合作时限一般为六年"),
    ("青岛成员校退出集团需要谁批准？", "引用条款"),
    ("南昌城乡发展共同体每学期开展多少次联合教研？", "引用条款"),
    ("北京的集团化办学有什么规定？", "未找到依据"),
]
# documents the writer imports and removes, and a question about each: answered from it while it is in the
# corpus, refused (cleanly) while it is not
COMING_AND_GOING = [
    ("株洲", "株教发", "株洲集团内教师交流轮岗比例是多少？"),
    ("衡阳", "衡教发", "衡阳集团内教师交流轮岗比例是多少？"),
    ("湘潭", "潭教发", "湘潭集团内教师交流轮岗比例是多少？"),
]
INTERNAL = "内部错误"


def document(city: str, prefix: str) -> bytes:
    from tests.support.samples import ZHUZHOU

    return ZHUZHOU.replace("株洲", city).replace("株教发", prefix).encode("utf-8")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answered_moving: int = 0  # questions about a document that was in the corpus at that moment
    refused_moving: int = 0
    imports: int = 0
    removals: int = 0
    write_seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def ask_loop(url: str, client_id: int, stop: threading.Event, tally: Tally) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    questions = STEADY + [(q, None) for _, _, q in COMING_AND_GOING]
    i = client_id
    while not stop.is_set():
        question, expected = questions[i % len(questions)]
        i += 1
        started = time.perf_counter()
        try:
            reply = client.predict(question, [], api_name="/ask")
        except Exception as exc:  # noqa: BLE001 — counted, reported
            tally.error(f"client {client_id}: {question}: {type(exc).__name__}: {exc}")
            continue
        elapsed = time.perf_counter() - started
        with tally.lock:
            tally.latencies.append(elapsed)
        if INTERNAL in reply:
            tally.error(f"client {client_id}: {question}: {reply[:120]}")
        elif expected is not None and expected not in reply:
            tally.error(f"client {client_id}: {question}: answer lacks {expected!r}: {reply[:120]}")
        elif expected is None:
            city = question[:2]
            if "不低于符合条件教师总数的15%" in reply and city in reply:
                with tally.lock:
                    tally.answered_moving += 1
            elif "未找到依据" in reply or "没有" in reply:
                with tally.lock:
                    tally.refused_moving += 1
            else:
                tally.error(f"client {client_id}: {question}: neither the clause nor a refusal: {reply[:160]}")


def write_loop(corpus: Path, index: Path, stop: threading.Event, tally: Tally, pause: float, hold: float) -> None:
    """Import each coming-and-going document, then remove it, round after round, until told to stop (a round
    in progress is finished, so the corpus ends as it began)."""
    from assistant.config import Settings
    from assistant.interfaces.facade import Assistant

    writer = Assistant(settings=Settings.from_env(corpus_dir=corpus, index_dir=index))
    files = [document(city, prefix) for city, prefix, _ in COMING_AND_GOING]
    while not stop.is_set():
        for (city, _, _), data in zip(COMING_AND_GOING, files):
            try:
                started = time.perf_counter()
                report = writer.ingest(data, f"{city}.txt")
                tally.write_seconds.append(time.perf_counter() - started)
                tally.imports += 1
                time.sleep(hold)
                started = time.perf_counter()
                writer.remove_document(report.doc_id)
                tally.write_seconds.append(time.perf_counter() - started)
                tally.removals += 1
                time.sleep(pause)
            except Exception as exc:  # noqa: BLE001 — counted, reported
                tally.error(f"writer: {city}: {type(exc).__name__}: {exc}")
                time.sleep(pause)


def run(url: str, corpus: Path, index: Path, clients: int, seconds: float, min_rounds: int = 1,
        pause: float = 0.3, hold: float = 1.5) -> Tally:
    """`pause`: seconds between a removal and the next import; `hold`: seconds a document stays imported."""
    from gradio_client import Client

    Client(url, verbose=False).predict(STEADY[0][0], [], api_name="/ask")  # warm-up, not timed
    tally = Tally()
    stop_asking, stop_writing = threading.Event(), threading.Event()
    writer = threading.Thread(target=write_loop, args=(corpus, index, stop_writing, tally, pause, hold), daemon=True)
    askers = [threading.Thread(target=ask_loop, args=(url, i, stop_asking, tally), daemon=True)
              for i in range(clients)]
    started = time.perf_counter()
    writer.start()
    for t in askers:
        t.start()
    deadline = started + seconds
    while time.perf_counter() < deadline or tally.removals < min_rounds * len(COMING_AND_GOING):
        if time.perf_counter() > deadline + 600:
            tally.error("writer: too slow to finish its rounds")
            break
        time.sleep(0.2)
    stop_writing.set()
    writer.join(600)
    stop_asking.set()
    for t in askers:
        t.join(120)
    tally.wall = time.perf_counter() - started  # type: ignore[attr-defined]
    return tally


def report(tally: Tally, clients: int) -> str:
    lines = [f"mixed load: {clients} clients asking through /ask while documents are imported and removed "
             f"(another process)"]
    n = len(tally.latencies)
    lines.append(f"  questions {n}, errors {len(tally.errors)}; about the documents coming and going: "
                 f"{tally.answered_moving} answered from them, {tally.refused_moving} refused while absent")
    if n:
        lines.append(f"  latency p50 {percentile(tally.latencies, 0.5):.2f} s  p95 {percentile(tally.latencies, 0.95):.2f} s"
                     f"  max {max(tally.latencies):.2f} s  mean {statistics.mean(tally.latencies):.2f} s; "
                     f"{n / tally.wall:.1f} questions/s over {tally.wall:.0f} s")  # type: ignore[attr-defined]
    if tally.write_seconds:
        lines.append(f"  writer: {tally.imports} imports, {tally.removals} removals, "
                     f"p50 {percentile(tally.write_seconds, 0.5):.2f} s per operation")
    lines.extend(f"  FAIL {e}" for e in tally.errors[:10])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--url", help="an app already running (then also --corpus and --index)")
    parser.add_argument("--corpus")
    parser.add_argument("--index")
    args = parser.parse_args()
    if args.url:
        tally = run(args.url, Path(args.corpus), Path(args.index), args.clients, args.seconds)
        print(report(tally, args.clients))
        raise SystemExit(1 if tally.errors else 0)
    work = Path(tempfile.mkdtemp(prefix="bench-mixed-"))
    proc, url = start_app(work)
    try:
        tally = run(url, work / "corpus", work / "index", args.clients, args.seconds)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except Exception:  # noqa: BLE001
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(report(tally, args.clients))
    raise SystemExit(1 if tally.errors else 0)


if __name__ == "__main__":
    main()
