"""What the index stores per clause, and the settings an index was built with."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.config import Settings
from assistant.domain.segment import search_terms
from assistant.domain.values import PATH_SEPARATOR, Chunk

SCHEMA_VERSION = 3  # 2: immutable segments + a manifest as the commit point; 3: sentence vectors
CHUNKER_VERSION = 2  # 2: later pieces of a split clause carry the subject before them


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
    context: str = ""
    ocr: bool = False  # the clause's document was (partly) read from a scan by OCR
    # the document's layer of government and its place's division code, so that a search can be limited to a
    # place and the places above it; None in rows written before they existed, or for a place the table lacks
    level: str | None = None
    place_code: str | None = None

    @classmethod
    def of(cls, chunk: Chunk, meta: dict) -> "ChunkRecord":
        return cls(chunk.chunk_id, chunk.doc_id, meta["city"], meta["title"], meta.get("doc_number"),
                   meta["status"], chunk.clause, chunk.text, chunk.ordinal, chunk.part, chunk.parts,
                   chunk.context, bool(meta.get("ocr")), meta.get("level"), meta.get("place_code"))

    def embedding_text(self, short_title: str | None) -> str:
        # The heading path and the document travel with the clause, as RAGFlow's laws splitter does; a later
        # piece of a split clause carries the subject set before it. Without a title (embed_context="clause")
        # the same clause in many cities' documents is embedded once.
        body = f"{self.context}……{self.text}" if self.context else self.text
        if short_title is None:
            return f"{self.clause}\n{body}"
        return f"{self.city} {short_title} {self.clause}\n{body}"

    def terms(self) -> tuple[str, ...]:
        """The lexical index's terms for this row (computed once, when the row is written)."""
        return search_terms(f"{self.clause.replace(PATH_SEPARATOR, ' ')} {self.context} {self.text}")


_DEFAULTS = {"embed_context": "document", "sentence_vectors": True}  # fingerprint entries recorded only when not the default


def fingerprint(settings: Settings, embedder_id: str) -> dict:
    """What must match for an index to be usable: a different embedder or chunking is never mixed in."""
    found = {"embedder": embedder_id, "max_chunk_tokens": settings.max_chunk_tokens,
             "chunker_version": CHUNKER_VERSION}
    if settings.embed_context != "document":  # recorded only when not the default, so older indexes stay valid
        found["embed_context"] = settings.embed_context
    if not settings.sentence_vectors:
        found["sentence_vectors"] = False
    return found


CODE_KEYS = {"chunker_version"}  # follow the code, not the user's settings: an index built with another is rebuilt


def upgradable(found: dict, expected: dict) -> bool:
    """True when only the code's own versions differ (an upgrade): rebuild from the cache, never refuse."""
    keys = {k for k in {*found, *expected} if found.get(k) != expected.get(k)}
    return bool(keys) and keys <= CODE_KEYS


def fingerprint_difference(found: dict, expected: dict) -> list[str]:
    keys = dict.fromkeys([*expected, *found])
    return [f"{k}: 索引为 {found.get(k, _DEFAULTS.get(k))}，当前为 {expected.get(k, _DEFAULTS.get(k))}"
            for k in keys if found.get(k) != expected.get(k)]
