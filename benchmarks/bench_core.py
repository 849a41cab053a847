"""Core benchmark (`make bench`): index build cold and cached, cold start to first answer, warm ask latency over
the gold questions against the time to embed the same questions (measured in the same process, interleaved),
peak memory. Prints figures; asserts nothing.

    python benchmarks/bench_core.py [--baseline /path/to/old/checkout] [--rounds 3]
    python benchmarks/bench_core.py --index DIR --corpus DIR --context clause --questions FILE
        [--baseline CHECKOUT --baseline-index DIR --baseline-corpus DIR]     (warm latency on an existing index)

With `--baseline`, cold start and warm latency are measured the same way for that checkout too (any version whose
`assistant.Assistant(settings=...)` has `.ask` and `.embedder.query_vector`), so before/after figures come from one
run on one machine. With `--index`, only the warm latency is measured, over an index built beforehand (e.g.
bench_write's 10,000-document scratch indexes, with bench_scale's synthetic questions)."""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "长沙集团化办学的合作期限是多久？"

COLD_START = """
import time, sys
t = time.perf_counter()
from assistant import Assistant
a = Assistant(index_dir=sys.argv[1])
a.ask(sys.argv[2])
print(time.perf_counter() - t)
"""

# Run with the checkout under test as the working directory (so its `assistant` is imported). For each gold
# question, in turn: embed it alone (the query embedding `ask` cannot avoid), then ask it. Prints JSON.
WARM = """
import json, resource, sys, time  # peak: VmHWM (a spawned child's ru_maxrss starts at its parent's)
from pathlib import Path
from assistant import Assistant
from assistant.config import Settings
a = Assistant(settings=Settings.from_env(index_dir=sys.argv[1], corpus_dir=sys.argv[4] or None,
                                         embed_context=sys.argv[5] or "document"))
questions = [json.loads(l)["question"] for l in Path(sys.argv[2]).read_text(encoding="utf-8").splitlines() if l.strip()]
for q in questions[:5]:
    a.ask(q); a.embedder.query_vector(q)  # warm-up
embed, ask = [], []
for _ in range(int(sys.argv[3])):
    for q in questions:
        t = time.perf_counter(); a.embedder.query_vector(q); embed.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter(); a.ask(q); ask.append((time.perf_counter() - t) * 1000)
import assistant
hwm = [l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:")]
print(json.dumps({"embed_ms": embed, "ask_ms": ask, "questions": len(questions), "code": assistant.__file__,
                  "peak_mb": int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def build_index(index_dir: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from assistant.config import Settings
    from assistant.interfaces.facade import Assistant

    settings = Settings.from_env(corpus_dir=ROOT / "corpus", index_dir=index_dir)
    assistant = Assistant(settings=settings)
    cold = assistant.build_index()
    cached = assistant.build_index(rebuild=True)
    unchanged = assistant.build_index()
    print(f"index build, cold (empty embedding cache): {cold.seconds:.2f} s for {cold.chunks} clauses "
          f"({cold.chunks / cold.seconds:.1f} clauses/s, embedded {cold.embedded})")
    print(f"index build --rebuild, warm embedding cache: {cached.seconds:.2f} s (embedded {cached.embedded})")
    print(f"index build, corpus unchanged: {unchanged.seconds:.2f} s")


def cold_start(checkout: Path, index_dir: Path, runs: int = 3) -> list[float]:
    starts = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", COLD_START, str(index_dir), QUESTION], cwd=checkout,
                             capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
        if out.returncode:
            raise SystemExit(out.stderr[-2000:])
        starts.append(float(out.stdout.strip().splitlines()[-1]))
    return starts


def warm(checkout: Path, index_dir: Path, rounds: int, corpus: Path | None = None, context: str = "document",
         questions: Path = ROOT / "eval" / "gold.jsonl") -> dict:
    out = subprocess.run([sys.executable, "-c", WARM, str(index_dir), str(questions), str(rounds), str(corpus or ""),
                          context], cwd=checkout, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if Path(checkout).resolve() not in Path(result["code"]).resolve().parents:
        raise SystemExit(f"measured {result['code']}, not the checkout {checkout}")
    return result


def report_warm(name: str, result: dict) -> tuple[float, float]:
    ask, embed = result["ask_ms"], result["embed_ms"]
    ask50, embed50 = percentile(ask, 50), percentile(embed, 50)
    print(f"{name}: warm ask over {result['questions']} questions x{len(ask) // result['questions']}: "
          f"p50 {ask50:.1f} ms, p95 {percentile(ask, 95):.1f} ms; query embedding alone p50 {embed50:.1f} ms, "
          f"p95 {percentile(embed, 95):.1f} ms → ask p50 / embedding p50 = {ask50 / embed50:.2f}× "
          f"(median of per-question ratios {statistics.median(a / e for a, e in zip(ask, embed)):.2f}×); "
          f"peak {result['peak_mb']:.0f} MB")
    return ask50, embed50


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to measure warm latency and cold start for")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the gold questions (default 3)")
    parser.add_argument("--index", type=Path, help="measure warm latency only, over this existing index")
    parser.add_argument("--corpus", type=Path, help="its corpus (with --index)")
    parser.add_argument("--context", default="document", help="its embed_context (with --index)")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "gold.jsonl",
                        help="JSONL with a 'question' per line (with --index; default the gold set)")
    parser.add_argument("--baseline-index", type=Path, help="the baseline's own index (with --index)")
    parser.add_argument("--baseline-corpus", type=Path, help="the baseline's own corpus (with --index)")
    args = parser.parse_args(argv)
    if args.index:
        sets = [("this checkout", ROOT, args.index, args.corpus)]
        if args.baseline:
            sets.append(("baseline", args.baseline.resolve(), args.baseline_index, args.baseline_corpus))
        for name, checkout, index, corpus in sets:
            report_warm(name, warm(checkout, index, args.rounds, corpus, args.context, args.questions))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-core-"))
    try:
        index_dir = work / "index"
        build_index(index_dir)
        checkouts = {"this checkout": ROOT}
        if args.baseline:
            # the old layout builds its own index format on first use: a copy of our cache spares the embedding
            (work / "old-index").mkdir()
            shutil.copytree(index_dir / "cache", work / "old-index" / "cache")
            checkouts["baseline"] = args.baseline.resolve()
        for name, checkout in checkouts.items():
            index = index_dir if checkout == ROOT else work / "old-index"
            if checkout != ROOT:
                warm(checkout, index, 0)  # builds the baseline's index (not timed)
            starts = cold_start(checkout, index)
            print(f"{name}: cold start to first answer (new process, built index, in-process clock): median "
                  f"{statistics.median(starts):.2f} s (runs: {', '.join(f'{s:.2f}' for s in starts)})")
            report_warm(name, warm(checkout, index, args.rounds))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (this process, index builds): {peak:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
