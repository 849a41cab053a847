"""Ingestion benchmark (`make bench`): documents/s and clauses/s for PDF, DOCX and TXT uploads,
with a cold embedding cache (every clause new) and a warm one (the same documents removed and
ingested again), plus extraction alone and a repeated upload. Prints figures; asserts nothing."""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.corpus.extract import Limits, extract  # noqa: E402
from assistant.interfaces.facade import Assistant  # noqa: E402
from tests.support.samples import XIANGTAN, ZHUZHOU, make_docx, make_pdf  # noqa: E402

CITIES = ["衡阳", "岳阳", "常德", "益阳", "郴州", "永州", "怀化", "娄底", "邵阳"]


def uploads() -> list[tuple[str, bytes]]:
    """Nine distinct documents (three of each format), each of its own city."""
    files = []
    for i, city in enumerate(CITIES):
        base = ZHUZHOU if i % 2 == 0 else XIANGTAN
        text = base.replace("株洲", city).replace("湘潭", city).replace("株教发", f"{city[0]}教发")
        kind = ("pdf", "docx", "txt")[i % 3]
        data = make_pdf(text) if kind == "pdf" else make_docx(text) if kind == "docx" else text.encode("gb18030")
        files.append((f"policy-{i}.{kind}", data))
    return files


def ingest_all(assistant: Assistant, files) -> tuple[float, int, int, list[str]]:
    started = time.perf_counter()
    clauses = embedded = 0
    ids = []
    for name, data in files:
        report = assistant.ingest(data, name)
        clauses += report.clauses
        embedded += report.embedded
        ids.append(report.doc_id)
    return time.perf_counter() - started, clauses, embedded, ids


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    corpus_dir = work / "corpus"
    shutil.copytree(ROOT / "corpus", corpus_dir)
    settings = Settings.from_env(corpus_dir=corpus_dir, index_dir=work / "index")
    assistant = Assistant(settings=settings)
    assistant.build_index()  # the bundled corpus, not timed
    files = uploads()
    limits = Limits.of(settings)

    for kind in ("pdf", "docx", "txt"):
        sample = [(n, d) for n, d in files if n.endswith(kind)]
        started = time.perf_counter()
        for name, data in sample:
            extract(data, name, limits)
        seconds = (time.perf_counter() - started) / len(sample)
        print(f"extraction only, {kind.upper():4}: {seconds * 1000:.0f} ms per document "
              f"({'subprocess parse' if kind != 'txt' else 'in process'})")

    seconds, clauses, embedded, ids = ingest_all(assistant, files)
    print(f"ingest, cold embedding cache: {len(files)} documents, {clauses} clauses ({embedded} embedded) in "
          f"{seconds:.1f} s → {len(files) / seconds:.2f} documents/s, {clauses / seconds:.1f} clauses/s")

    started = time.perf_counter()
    for name, data in files:
        assistant.ingest(data, name)
    seconds_again = time.perf_counter() - started
    print(f"same files again (unchanged, nothing written): {seconds_again / len(files) * 1000:.0f} ms per document")

    started = time.perf_counter()
    for doc_id in ids:
        assistant.remove_document(doc_id)
    removed = time.perf_counter() - started
    print(f"remove: {removed / len(ids) * 1000:.0f} ms per document")

    seconds, clauses, embedded, _ = ingest_all(assistant, files)
    print(f"ingest, warm embedding cache: {len(files)} documents, {clauses} clauses ({embedded} embedded) in "
          f"{seconds:.1f} s → {len(files) / seconds:.2f} documents/s, {clauses / seconds:.1f} clauses/s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
