"""Core benchmark (`make bench`): index build cold and cached, cold start to first answer,
warm ask latency over the gold questions, peak memory. Prints figures; asserts nothing."""
from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.corpus.manifest import load_corpus  # noqa: E402
from assistant.index.embedders import make_embedder  # noqa: E402
from assistant.index.store import IndexStore  # noqa: E402

COLD_START = """
import time, sys
t = time.perf_counter()
from assistant import Assistant
a = Assistant(index_dir=sys.argv[1])
a.ask("长沙集团化办学的合作期限是多久？")
print(time.perf_counter() - t)
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-core-"))
    index_dir = work / "index"
    settings = Settings.from_env(corpus_dir=ROOT / "corpus", index_dir=index_dir)
    docs = load_corpus(settings.corpus_dir)
    store = IndexStore(settings, make_embedder(settings.embedder, settings.embed_threads))

    cold = store.build(docs)
    cached = store.build(docs, rebuild=True)
    print(f"index build, cold (empty embedding cache): {cold.seconds:.2f} s for {cold.chunks} clauses "
          f"({cold.chunks / cold.seconds:.1f} clauses/s)")
    print(f"index build --rebuild, warm embedding cache: {cached.seconds:.2f} s (embedded {cached.embedded})")

    starts = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", COLD_START, str(index_dir)], cwd=ROOT,
                             capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(out.stderr[-2000:])
        starts.append(float(out.stdout.strip().splitlines()[-1]))
    print(f"cold start to first answer (new process, built index): median {statistics.median(starts):.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in starts)})")

    from assistant import Assistant

    assistant = Assistant(index_dir=index_dir)
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "gold.jsonl").open(encoding="utf-8")]
    for q in questions[:5]:
        assistant.ask(q)  # warm-up
    latencies = []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q)
            latencies.append((time.perf_counter() - t) * 1000)
    print(f"warm ask latency over {len(questions)} gold questions x3: p50 {percentile(latencies, 50):.1f} ms, "
          f"p95 {percentile(latencies, 95):.1f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (this process): {peak:.0f} MB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
