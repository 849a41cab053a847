"""Cold-start benchmark (`make bench`, issue 13): a fresh `python -m assistant ask "<question>"` (the bundled
corpus, its index already built) against the floor, `benchmarks/floor.py` (load jieba and the embedder, segment
and embed the question, nothing else), as whole processes timed from outside.

The two commands run in turn (A B A B ...) after warm-up runs, and the ratio A/B is taken pair by pair, so a drift
of the shared machine's speed hits both; medians are printed. Wall seconds come from a monotonic clock around the
child's start and reaping; user and system seconds and the peak resident set from the operating system's
accounting of the finished child (`os.wait4`). This parent imports nothing heavy: on Linux a child's peak starts at
its parent's resident set. With `--baseline DIR`, the same question asked by that checkout (e.g. the code before the
restructure, its own index built) is measured against the same floor, in the same alternation.

    python benchmarks/bench_cold.py [--runs 20] [--warmup 2] [--baseline /path/to/old/checkout]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "长沙集团化办学的合作期限是多久？"


def run_once(argv: list[str], cwd: Path) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": ""})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} (in {cwd}) exited with {proc.returncode}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="counted runs of each command (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted runs of each command first (default 2)")
    parser.add_argument("--baseline", type=Path, help="another checkout whose `ask` is measured the same way")
    args = parser.parse_args(argv)
    python = sys.executable
    commands = {"floor": ([python, str(ROOT / "benchmarks" / "floor.py"), QUESTION], ROOT),
                "ask": ([python, "-m", "assistant", "ask", QUESTION], ROOT)}
    if args.baseline:
        commands["baseline ask"] = ([python, "-m", "assistant", "ask", QUESTION], args.baseline.resolve())
    for _ in range(args.warmup):
        for command, cwd in commands.values():
            run_once(command, cwd)
    rows: dict[str, list[dict]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (command, cwd) in commands.items():
            rows[name].append(run_once(command, cwd))
    print(f"cold start, whole processes, {args.runs} runs each in turn after {args.warmup} warm-up runs "
          f"(load {os.getloadavg()[0]:.2f} at the end); medians, [min, max]:")
    for name, runs in rows.items():
        parts = []
        for key, unit in (("wall", "s"), ("cpu", "s"), ("peak_mb", "MB")):
            values = [r[key] for r in runs]
            parts.append(f"{key} {statistics.median(values):.3f} {unit} [{min(values):.3f}, {max(values):.3f}]")
        print(f"  {name:13s} " + ", ".join(parts))
    for name in commands:
        if name == "floor":
            continue
        for key in ("wall", "cpu"):
            ratios = [a[key] / b[key] for a, b in zip(rows[name], rows["floor"])]
            print(f"  {name} / floor, {key}: median {statistics.median(ratios):.2f}× "
                  f"[{min(ratios):.2f}, {max(ratios):.2f}]")


if __name__ == "__main__":
    main()
