"""The naive pipeline we measure ourselves against: LangChain's RecursiveCharacterTextSplitter over raw
document text, the same embedder, and Chroma top-k, with no clause structure, BM25 or city filters."""
from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from assistant import config  # noqa: F401  (telemetry off before chromadb is imported)
from assistant.index.cache import EmbeddingCache
from assistant.domain.values import PolicyDoc

CHUNK_SIZE = 400  # characters, LangChain's usual order of magnitude for a 512-token embedder
CHUNK_OVERLAP = 50
_INVISIBLE = re.compile(r"[\s*]+")


def squash(text: str) -> str:
    """Text with whitespace and Markdown asterisks removed, to match key phrases fairly across
    line breaks that the naive splitter keeps."""
    return _INVISIBLE.sub("", text)


class CachedEmbeddings:
    """LangChain's `Embeddings` interface over our embedder, passages through the embedding cache. The one
    place LangChain meets the embedders (built lazily, so importing this module stays cheap)."""

    def __new__(cls, embedder, cache: EmbeddingCache):
        from langchain_core.embeddings import Embeddings

        class _Adapter(Embeddings):
            model_id = embedder.model_id

            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                vectors, _ = cache.embed(embedder, list(texts))
                return vectors.tolist()

            def embed_query(self, text: str) -> list[float]:
                return embedder.query_vector(text).tolist()

        return _Adapter()


@dataclass(frozen=True)
class NaiveHit:
    doc_id: str
    text: str
    score: float


class NaivePipeline:
    """Builds its own Chroma collection (in a private directory, or `directory` to keep it) from the
    documents' raw text; with no documents it opens the collection already in `directory`."""

    def __init__(self, docs: list[PolicyDoc], embedder, cache: EmbeddingCache,
                 chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP, directory: Path | None = None):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
        texts, metadatas = [], []
        for doc in docs:
            for piece in splitter.split_text(doc.text):
                texts.append(piece)
                metadatas.append({"doc_id": doc.doc_id})
        self._owned = directory is None
        self._dir = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="naive-chroma-"))
        client = chromadb.PersistentClient(path=str(self._dir),
                                           settings=ChromaSettings(anonymized_telemetry=False))
        self._store = Chroma(collection_name="naive", client=client,
                             embedding_function=CachedEmbeddings(embedder, cache),
                             collection_metadata={"hnsw:space": "cosine"})
        for start in range(0, len(texts), 500):
            self._store.add_texts(texts[start:start + 500], metadatas=metadatas[start:start + 500])
        self.chunks = len(texts) or client.get_collection("naive").count()

    def search(self, question: str, k: int = 10) -> list[NaiveHit]:
        found = self._store.similarity_search_with_score(question, k=k)
        return [NaiveHit(d.metadata["doc_id"], d.page_content, 1.0 - float(distance)) for d, distance in found]

    def close(self) -> None:
        if self._owned:
            shutil.rmtree(self._dir, ignore_errors=True)
