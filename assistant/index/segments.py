"""The index on disk: immutable segments and the manifest that names the live ones.

index/
  manifest.json            the commit point: settings fingerprint, generation, segments, documents
  segments/<name>/         written once, never changed: records.jsonl, ids.json, vectors.npy, terms.npz, vocab.json
  chroma/                  the vector store the writer keeps in step (see vectors.py)
  cache/embeddings.sqlite  vectors by text digest, so rebuilds embed only new text

A document's rows live in exactly one segment (the manifest says which); rows of a segment whose document
now points elsewhere, or is gone, are dead and skipped. A writer adds a segment and then replaces the
manifest atomically, so a reader sees the old index or the new one, never a part."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from assistant.files import atomic_write, fsync_dir
from assistant.index.lexical import TermRows
from assistant.index.records import ChunkRecord

MANIFEST = "manifest.json"
SEGMENTS = "segments"
PENDING = "PENDING"  # Chroma may differ from the manifest until a writer reconciles it


@dataclass(frozen=True)
class Segment:
    name: str
    records: tuple[ChunkRecord, ...]
    vectors: np.ndarray  # (rows, dimension) float32, memory-mapped
    terms: TermRows
    # each row's sentences (chunking.quote_units) as vectors: row i owns sentence_vectors[ptr[i]:ptr[i+1]]
    sentence_vectors: np.ndarray
    sentence_ptr: np.ndarray


def segment_dir(index_dir: Path, name: str) -> Path:
    return index_dir / SEGMENTS / name


def write_segment(index_dir: Path, name: str, records: list[ChunkRecord], vectors: np.ndarray,
                  terms: TermRows, sentence_vectors: np.ndarray, sentence_ptr: np.ndarray) -> None:
    """Write a complete segment under a temporary name, then rename it into place."""
    final = segment_dir(index_dir, name)
    tmp = final.with_name(name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        lines = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records)
        (tmp / "records.jsonl").write_text(lines, encoding="utf-8")
        ids = {"chunks": [r.chunk_id for r in records], "docs": [r.doc_id for r in records]}
        (tmp / "ids.json").write_text(json.dumps(ids), encoding="utf-8")
        for file, array, dtype in (("vectors.npy", vectors, np.float32),
                                   ("sentences.npy", sentence_vectors, np.float32),
                                   ("sentence_ptr.npy", sentence_ptr, np.int64)):
            with open(tmp / file, "wb") as fh:
                np.save(fh, np.ascontiguousarray(array, dtype=dtype))
        terms.save(tmp)
        for path in tmp.iterdir():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, final)
        fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_segment(index_dir: Path, name: str) -> Segment:
    directory = segment_dir(index_dir, name)
    with open(directory / "records.jsonl", encoding="utf-8") as fh:
        records = tuple(ChunkRecord(**json.loads(line)) for line in fh if line.strip())
    vectors = np.load(directory / "vectors.npy", mmap_mode="r")
    return Segment(name, records, vectors, TermRows.load(directory),
                   np.load(directory / "sentences.npy", mmap_mode="r"), np.load(directory / "sentence_ptr.npy"))


def take_sentences(segment: Segment, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sentence vectors of these rows, in order, with their new offsets."""
    ptr = segment.sentence_ptr
    parts = [np.asarray(segment.sentence_vectors[ptr[i]:ptr[i + 1]]) for i in rows.tolist()]
    counts = [len(p) for p in parts]
    width = segment.sentence_vectors.shape[1] if segment.sentence_vectors.ndim == 2 else 0
    stacked = np.concatenate(parts) if parts and sum(counts) else np.zeros((0, width), dtype=np.float32)
    return stacked, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def segment_ids(index_dir: Path, name: str) -> list[tuple[str, str]]:
    """(chunk id, doc id) of every row, without reading the rows' texts."""
    ids = json.loads((segment_dir(index_dir, name) / "ids.json").read_text(encoding="utf-8"))
    return list(zip(ids["chunks"], ids["docs"]))


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def write_manifest(index_dir: Path, manifest: dict) -> None:
    atomic_write(index_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))


def manifest_stamp(index_dir: Path) -> tuple[int, int] | None:
    """Changes whenever a writer commits (the manifest is replaced, so its inode changes)."""
    try:
        st = os.stat(index_dir / MANIFEST)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def live_segments(manifest: dict) -> list[str]:
    return list(manifest.get("segments", []))


def collect_garbage(index_dir: Path, manifest: dict) -> None:
    """Remove segment directories the manifest does not name (a reader holding one keeps its open files)."""
    keep = set(live_segments(manifest))
    root = index_dir / SEGMENTS
    if not root.is_dir():
        return
    for path in root.iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
