"""HTTP API throughput against the web app's Gradio route, in the same run on the same server (`make bench`).

Starts app.py on a free loopback port over a copy of the bundled corpus, then fires N concurrent questions
(one client each, all released at once) at `POST /api/v1/ask` and at Gradio's `/ask` (gradio_client), in
alternating rounds so that neither gets the quieter machine, and prints p50/p95/max latency and questions per
second for both. Every answer must be right (cited clause or refusal); the script exits non-zero on any error.

    python benchmarks/bench_api.py [--n 50] [--rounds 2] [--url http://127.0.0.1:7860/]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench_app import QUESTIONS, percentile, start_app

# what each question's JSON answer must show (the Gradio route's Markdown is checked by bench_app's phrases)
API_CHECKS = {
    "长沙集团化办学的合作期限是多久？": lambda a: any("合作时限一般为六年" in c["text"] for c in a["citations"]),
    "北京的集团化办学有什么规定？": lambda a: a["abstained"] and not a["citations"],
}


def api_ask(url: str):
    client = httpx.Client(base_url=url, timeout=300)

    def ask(question: str) -> str | None:
        response = client.post("/api/v1/ask", json={"question": question})
        if response.status_code != 200:
            return f"HTTP {response.status_code}: {response.text[:200]}"
        answer = response.json()
        check = API_CHECKS.get(question, lambda a: bool(a["citations"]))
        return None if check(answer) else "answer lacks its citation"

    ask.close = client.close
    return ask


def gradio_ask(url: str):
    from gradio_client import Client

    # the same generous timeout as the API client: measure the route, not gradio_client's 5 s default
    client = Client(url, verbose=False, httpx_kwargs={"timeout": 300})
    expected = dict(QUESTIONS)

    def ask(question: str) -> str | None:
        reply = client.predict(question, [], api_name="/ask")
        return None if expected[question] in reply else f"answer lacks {expected[question]!r}"

    ask.close = client.close  # each gradio_client keeps a heartbeat stream open until closed
    return ask


def burst(make_client, url: str, n: int) -> dict:
    """N clients, each asking one question, released together; latencies and failures."""
    clients = [make_client(url) for _ in range(n)]
    gate = threading.Barrier(n)
    latencies, failures = [], []

    def one(i: int) -> None:
        question = QUESTIONS[i % len(QUESTIONS)][0]
        gate.wait()
        started = time.perf_counter()
        try:
            problem = clients[i](question)
        except Exception as exc:  # noqa: BLE001 — counted and reported
            problem = f"{type(exc).__name__}: {exc}"
        latencies.append(time.perf_counter() - started)
        if problem:
            failures.append(f"{question}: {problem}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - started
    for client in clients:
        client.close()
    return {"wall": wall, "latencies": latencies, "failures": failures}


def report(name: str, runs: list[dict], n: int) -> float:
    latencies = [x for r in runs for x in r["latencies"]]
    failures = [f for r in runs for f in r["failures"]]
    rates = [n / r["wall"] for r in runs]
    print(f"{name}: {len(runs)} rounds × {n} concurrent questions")
    print(f"  ok {len(latencies) - len(failures)}/{len(latencies)}, errors {len(failures)}")
    print(f"  latency p50 {percentile(latencies, 0.5):.2f} s  p95 {percentile(latencies, 0.95):.2f} s  "
          f"max {max(latencies):.2f} s  mean {statistics.mean(latencies):.2f} s")
    print(f"  throughput {statistics.mean(rates):.1f} questions/s (rounds: {', '.join(f'{r:.1f}' for r in rates)})")
    for failure in failures[:5]:
        print("  FAIL", failure)
    return statistics.mean(rates)


def run(url: str, n: int, rounds: int) -> int:
    for make in (api_ask, gradio_ask):  # warm-ups, not timed
        ask = make(url)
        ask(QUESTIONS[0][0])
        ask.close()
    results = {"api": [], "gradio": []}
    for i in range(rounds):
        order = (("api", api_ask), ("gradio", gradio_ask)) if i % 2 == 0 else (("gradio", gradio_ask), ("api", api_ask))
        for name, make in order:
            results[name].append(burst(make, url, n))
    api_rate = report("HTTP API  POST /api/v1/ask", results["api"], n)
    gradio_rate = report("Gradio    /ask (gradio_client, queue concurrency 8)", results["gradio"], n)
    print(f"API / Gradio throughput: {api_rate / gradio_rate:.2f}×")
    failed = any(r["failures"] for runs in results.values() for r in runs)
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--url", help="benchmark a server that is already running (no login)")
    args = parser.parse_args()
    if args.url:
        raise SystemExit(run(args.url.rstrip("/") + "/", args.n, args.rounds))
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    proc, url = start_app(work)
    try:
        code = run(url, args.n, args.rounds)
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
