"""Chroma as the vector store: on disk under index/chroma, or a Chroma server (CHROMA_HOST).

The writer keeps it in step with the committed segments; readers query it only for approximate search over
large corpora (small or filtered searches are exact from the segments' vectors, and need no chromadb import).
Every vector comes from our embedder: Chroma's default embedding function is never allowed to run."""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from assistant import config  # noqa: F401  (telemetry off before chromadb is imported)
from assistant.config import Settings
from assistant.errors import AssistantError, IndexCorruptError, StorageError
from assistant.files import free_bytes, storage_problem, writable

COLLECTION = "policy_clauses"
_BATCH = 1000
_LOW_SPACE = 4 * 1024 * 1024
# how SQLite says a database file is damaged (Chroma passes its messages through)
_CORRUPT = ("file is not a database", "malformed", "(code: 26)", "(code: 11)", "no such table", "database corrupt")


class ChromaVectors:
    def __init__(self, settings: Settings, embedder_id: str):
        self.settings = settings
        self.embedder_id = embedder_id
        self._collection = None

    @property
    def location(self) -> str:
        s = self.settings
        return f"http://{s.chroma_host}:{s.chroma_port}" if s.chroma_host else "persistent"

    def _client(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.settings.chroma_host:
            return chromadb.HttpClient(host=self.settings.chroma_host, port=self.settings.chroma_port,
                                       settings=chroma_settings)
        return chromadb.PersistentClient(path=str(Path(self.settings.index_dir) / "chroma"),
                                         settings=chroma_settings)

    def collection(self, create: bool = True):
        if self._collection is None:
            client = self._client()
            if create:
                # embedding_function=None: vectors always come from our embedder, never Chroma's default
                self._collection = client.get_or_create_collection(
                    COLLECTION, embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embedder": self.embedder_id})
            else:
                self._collection = client.get_collection(COLLECTION, embedding_function=None)
        return self._collection

    @property
    def database(self) -> Path:
        return Path(self.settings.index_dir) / "chroma" / "chroma.sqlite3"

    @contextlib.contextmanager
    def _failures(self):
        """Chroma's errors as one clear line: a full or read-only disk, or a damaged database file that only
        `index build --rebuild` recreates. A client that failed is dropped (Chroma caches a broken one)."""
        try:
            yield
        except AssistantError:
            raise
        except Exception as exc:
            self._forget()
            if self.settings.chroma_host:
                raise AssistantError(f"无法访问 Chroma 服务器 {self.location}（{exc.__class__.__name__}），"
                                     "请检查服务器后重试。") from exc
            problem = storage_problem(exc)
            # Chroma reports a full disk in many words ("Error in compaction …", even "readonly database")
            if writable(self.database.parent) and free_bytes(self.database.parent) < _LOW_SPACE:
                problem = "磁盘空间不足"
            if problem:
                raise StorageError(f"无法写入向量库 {self.database.parent}（{problem}）。") from exc
            text = str(exc).lower()
            if any(mark in text for mark in _CORRUPT) or isinstance(exc, AttributeError):
                raise IndexCorruptError(f"向量库文件 {self.database} 已损坏或无法读取（{str(exc)[:80]}）。"
                                        "请运行 policy-assistant index build --rebuild 重建索引（嵌入缓存会保留）。") from exc
            raise IndexCorruptError(f"向量库操作失败（{exc.__class__.__name__}: {str(exc)[:80]}）。如果反复出现，"
                                    "请运行 policy-assistant index build --rebuild 重建索引。") from exc

    def _forget(self) -> None:
        self._collection = None
        with contextlib.suppress(Exception):
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        with self._failures():
            collection = self.collection()
            for i in range(0, len(ids), _BATCH):
                collection.upsert(ids=ids[i:i + _BATCH], embeddings=vectors[i:i + _BATCH],
                                  metadatas=metadatas[i:i + _BATCH])

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        with self._failures():
            collection = self.collection()
            for i in range(0, len(ids), _BATCH):
                collection.delete(ids=ids[i:i + _BATCH])

    def ids(self) -> set[str]:
        with self._failures():
            return set(self.collection().get(include=[])["ids"])

    def count(self) -> int:
        with self._failures():
            return self.collection().count()

    def query(self, vector: np.ndarray, n: int, where: dict | None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first."""
        from chromadb.errors import NotFoundError

        with self._failures():
            try:
                result = self.collection(create=False).query(query_embeddings=[vector.tolist()], n_results=n,
                                                             where=where, include=["distances"])
            except NotFoundError as exc:
                raise IndexCorruptError("向量库中找不到索引集合，请运行 policy-assistant index build --rebuild") from exc
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]

    def drop(self) -> None:
        """Remove the collection through Chroma itself (deleting its files under a live client would leave the
        client writing to unlinked files); an unreadable local database is removed from disk instead."""
        import shutil

        self._collection = None
        try:
            client = self._client()
            if COLLECTION in [c if isinstance(c, str) else c.name for c in client.list_collections()]:
                client.delete_collection(COLLECTION)
        except Exception:
            if self.settings.chroma_host:
                raise
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
            shutil.rmtree(Path(self.settings.index_dir) / "chroma", ignore_errors=True)
