"""Web app concurrency benchmark (`make bench`): starts app.py on a free loopback port over a copy of the
bundled corpus, fires N concurrent questions through the app's `/ask` API (gradio_client, one client per
question, all released at once) and prints p50/p95/max latency and throughput. Every answer must cite
its clause; the script exits non-zero if any question errors or comes back wrong.

    python benchmarks/bench_app.py [--n 50] [--url http://127.0.0.1:7860/]   (--url: an app already running)
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# question → a phrase its answer must contain
QUESTIONS = [
    ("长沙集团化办学的合作期限是多久？", "合作时限一般为六年"),
    ("青岛成员校退出集团需要谁批准？", "引用条款"),
    ("中原区要求教育集团建立哪些“五个一”制度？", "引用条款"),
    ("南昌城乡发展共同体每学期开展多少次联合教研？", "引用条款"),
    ("北京的集团化办学有什么规定？", "未找到依据"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(work: Path) -> tuple[subprocess.Popen, str]:
    corpus = work / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    port = free_port()
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(work / "index"),
           "ASSISTANT_DATA_DIR": str(work / "data"), "ASSISTANT_PORT": str(port), "PYTHONPATH": str(ROOT)}
    env.pop("ASSISTANT_AUTH", None)
    log = open(work / "app.log", "wb")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 600  # the first start builds the index
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"app exited early; see {work / 'app.log'}")
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("app did not start within 600 s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(url: str, n: int) -> int:
    from gradio_client import Client

    Client(url, verbose=False).predict(QUESTIONS[0][0], [], api_name="/ask")  # warm-up, not timed
    clients = [Client(url, verbose=False) for _ in range(n)]
    gate = threading.Barrier(n)
    latencies: list[float] = []
    failures: list[str] = []

    def one(i: int) -> None:
        question, expected = QUESTIONS[i % len(QUESTIONS)]
        gate.wait()
        started = time.perf_counter()
        try:
            reply = clients[i].predict(question, [], api_name="/ask")
        except Exception as exc:  # noqa: BLE001 — counted, reported
            failures.append(f"{question}: {type(exc).__name__}: {exc}")
            return
        latencies.append(time.perf_counter() - started)
        if expected not in reply:
            failures.append(f"{question}: answer lacks {expected!r}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - started
    print(f"web app /ask, {n} concurrent questions ({len(QUESTIONS)} distinct), queue concurrency 8")
    if latencies:
        print(f"  ok {len(latencies) - sum(1 for f in failures if 'lacks' in f)}/{n}, errors {len(failures)}")
        print(f"  latency p50 {percentile(latencies, 0.5):.2f} s  p95 {percentile(latencies, 0.95):.2f} s  "
              f"max {max(latencies):.2f} s  mean {statistics.mean(latencies):.2f} s")
        print(f"  wall {wall:.1f} s, {n / wall:.1f} questions/s")
    for f in failures[:10]:
        print("  FAIL", f)
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--url", help="benchmark an app that is already running")
    args = parser.parse_args()
    if args.url:
        raise SystemExit(run(args.url, args.n))
    work = Path(tempfile.mkdtemp(prefix="bench-app-"))
    proc, url = start_app(work)
    try:
        code = run(url, args.n)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
