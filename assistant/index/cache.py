"""Vectors keyed by (model id, sha256 of the embedded text), so a rebuild embeds only new or changed text."""
from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np

from assistant.domain.progress import EMBED, report


class EmbeddingCache:
    """Vectors keyed by (model id, sha256 of text), so a rebuild embeds only new or changed text.

    `seeds` are read-only caches consulted after this one (e.g. the vectors shipped with a corpus); what is
    found there is copied in."""

    def __init__(self, path: Path, seeds: list[Path] | None = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, digest TEXT, vec BLOB, "
                         "PRIMARY KEY (model, digest))")
        self._seeds = [sqlite3.connect(f"file:{s}?mode=ro", uri=True, check_same_thread=False) for s in seeds or []]
        self._lock = threading.Lock()
        self._writable = True

    def _lookup(self, db, model: str, digests: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(digests), 500):
            part = digests[i:i + 500]
            rows = db.execute(
                f"SELECT digest, vec FROM vectors WHERE model = ? AND digest IN ({','.join('?' * len(part))})",
                [model, *part]).fetchall()
            found.update((d, np.frombuffer(v, dtype=np.float32)) for d, v in rows)
        return found

    @staticmethod
    def _digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def embed(self, embedder, texts: list[str], batch_size: int = 32,
              progress=None) -> tuple[np.ndarray, int]:
        """Return (vectors, number of texts that had to be embedded)."""
        model = embedder.model_id
        digests = [self._digest(t) for t in texts]
        with self._lock:
            found = self._lookup(self._db, model, digests)
            seeded: dict[str, np.ndarray] = {}
            for seed in self._seeds:
                unknown = [d for d in dict.fromkeys(digests) if d not in found]
                if not unknown:
                    break
                seeded.update(self._lookup(seed, model, unknown))
                found.update(seeded)
        if seeded:
            self._store(model, list(seeded.items()))
        missing, wanted = [], set()  # a text repeated within the call is embedded once
        for i, d in enumerate(digests):
            if d not in found and d not in wanted:
                wanted.add(d)
                missing.append(i)
        for start in range(0, len(missing), batch_size):
            batch = missing[start:start + batch_size]
            vectors = embedder.embed_passages([texts[i] for i in batch])
            self._store(model, [(digests[i], vectors[j]) for j, i in enumerate(batch)])
            found.update((digests[i], vectors[j]) for j, i in enumerate(batch))
            report(progress, min(start + batch_size, len(missing)), len(missing), EMBED)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([found[d] for d in digests]), len(missing)

    def put(self, model: str, texts: list[str], vectors: np.ndarray) -> None:
        """Write these vectors or raise (used to write a seed cache, which must be complete)."""
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                 [(model, self._digest(t), v.astype(np.float32).tobytes())
                                  for t, v in zip(texts, vectors)])

    def _store(self, model: str, rows: list[tuple[str, np.ndarray]]) -> None:
        """Keep new vectors; a cache that cannot be written (a full disk) only stops caching, it never fails
        the build that is computing them."""
        if not self._writable:
            return
        try:
            with self._lock, self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                     [(model, digest, vector.tobytes()) for digest, vector in rows])
        except sqlite3.Error:
            self._writable = False

    def close(self) -> None:
        self._db.close()
        for seed in self._seeds:
            seed.close()
