"""What the index stores per clause, and the settings an index was built with."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.config import Settings
from assistant.domain.segment import search_terms
from assistant.domain.values import PATH_SEPARATOR, Chunk

SCHEMA_VERSION = 2  # 2: immutable segments + a manifest as the commit point
CHUNKER_VERSION = 1


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk joined with its document's metadata: one row of the index."""

    chunk_id: str
    doc_id: str
    city: str
    title: str
    doc_number: str | None
    status: str
    clause: str
    text: str
    ordinal: int
    part: int
    parts: int
    ocr: bool = False  # the clause's document was (partly) read from a scan by OCR

    @classmethod
    def of(cls, chunk: Chunk, meta: dict) -> "ChunkRecord":
        return cls(chunk.chunk_id, chunk.doc_id, meta["city"], meta["title"], meta.get("doc_number"),
                   meta["status"], chunk.clause, chunk.text, chunk.ordinal, chunk.part, chunk.parts,
                   bool(meta.get("ocr")))

    def embedding_text(self, short_title: str | None) -> str:
        # The heading path and the document travel with the clause, as RAGFlow's laws splitter does.
        # Without a title (embed_context="clause") the same clause in many cities' documents is embedded once.
        if short_title is None:
            return f"{self.clause}\n{self.text}"
        return f"{self.city} {short_title} {self.clause}\n{self.text}"

    def terms(self) -> tuple[str, ...]:
        """The lexical index's terms for this row (computed once, when the row is written)."""
        return search_terms(f"{self.clause.replace(PATH_SEPARATOR, ' ')} {self.text}")


_DEFAULTS = {"embed_context": "document"}  # fingerprint entries recorded only when not the default


def fingerprint(settings: Settings, embedder_id: str) -> dict:
    """What must match for an index to be usable: a different embedder or chunking is never mixed in."""
    found = {"embedder": embedder_id, "max_chunk_tokens": settings.max_chunk_tokens,
             "chunker_version": CHUNKER_VERSION}
    if settings.embed_context != "document":  # recorded only when not the default, so older indexes stay valid
        found["embed_context"] = settings.embed_context
    return found


def fingerprint_difference(found: dict, expected: dict) -> list[str]:
    keys = dict.fromkeys([*expected, *found])
    return [f"{k}: 索引为 {found.get(k, _DEFAULTS.get(k))}，当前为 {expected.get(k, _DEFAULTS.get(k))}"
            for k in keys if found.get(k) != expected.get(k)]
