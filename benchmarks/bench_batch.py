"""Batch-import benchmark (issue 15): real regulations from ../shared/laws/DLC imported in ONE command
(`policy-assistant ingest FILE…`) beside the bundled corpus, first with an empty embedding cache, then again
unchanged. Prints files/s, clauses/s, peak memory of the command, the outcome counts, and whether the second run
changed anything (manifest and index manifest byte for byte).

The files are spread over every province folder (every k-th file in sorted order), read where they are — never
copied into the repository. Scratch data lives in a temporary directory (or --work). Asserts nothing.

    python benchmarks/bench_batch.py [--files 500] [--work /tmp/bench-batch]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAWS = Path(os.environ.get("ASSISTANT_LAWS_DIR") or ROOT.parent / "shared" / "laws")


def pick(count: int) -> list[Path]:
    """`count` files spread evenly over the sorted local regulations."""
    files = sorted(p for p in LAWS.glob("DLC/*/*/*/*.md") if not p.name.startswith("_"))  # _index.md: listings
    if not files:
        raise SystemExit(f"no regulations under {LAWS}/DLC (set ASSISTANT_LAWS_DIR)")
    step = max(1, len(files) // count)
    return files[::step][:count]


def run(paths: list[Path], corpus: Path, index: Path) -> dict:
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(index), "PYTHONPATH": ""}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", *map(str, paths), "--json"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    results = json.loads(out) if out.strip().startswith("[") else []
    counts: dict[str, int] = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    return {"seconds": seconds, "exit": os.waitstatus_to_exitcode(status), "counts": counts,
            "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "failed": [(r["path"], r.get("reason", "")) for r in results if r["outcome"] not in ("imported", "unchanged")]}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    corpus, index = work / "corpus", work / "index"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ROOT / "corpus", corpus)
    # the index's own embedding cache starts empty: every text of the new files is embedded (the bundled corpus's
    # vectors come with it, corpus/embedding-cache.sqlite, as on a fresh machine)
    bundled = set(_doc_ids(corpus / "manifest.json"))
    paths = pick(args.files)
    print(f"{len(paths)} regulations from {LAWS}/DLC, work directory {work}", flush=True)
    first = run(paths, corpus, index)
    index_manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    clauses = sum(int(e.get("chunks", 0)) for d, e in index_manifest["documents"].items() if d not in bundled)
    before = (digest(corpus / "manifest.json"), digest(index / "manifest.json"))
    second = run(paths, corpus, index)
    after = (digest(corpus / "manifest.json"), digest(index / "manifest.json"))
    new_files = first["counts"].get("imported", 0)
    print(f"first run (empty embedding cache): {first['seconds']:.1f} s wall, {first['cpu']:.1f} s CPU, exit {first['exit']}, "
          f"{first['counts']}; {new_files / first['seconds']:.2f} files/s; {clauses} new clauses → "
          f"{clauses / first['seconds']:.1f} clauses/s; peak {first['peak_mb']:.0f} MB")
    print(f"second run (unchanged): {second['seconds']:.1f} s wall, {second['cpu']:.1f} s CPU, exit {second['exit']}, "
          f"{second['counts']}; peak {second['peak_mb']:.0f} MB; manifests unchanged: {before == after}")
    for path, reason in first["failed"][:20]:
        print(f"  not imported: {Path(path).name}: {reason}")


def _doc_ids(manifest: Path) -> list[str]:
    data = json.loads(manifest.read_text(encoding="utf-8"))
    documents = data.get("documents", [])
    return [d["doc_id"] for d in documents] if isinstance(documents, list) else list(documents)


if __name__ == "__main__":
    main()
