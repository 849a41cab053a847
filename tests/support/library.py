"""A Library's `apply` step for unit tests that need no index: the corpus changes for real, nothing is embedded."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoIndex:
    """What the index update reports when no index stands behind the library."""

    embedded: int = 0
    added: int = 0
    removed: int = 0


def no_index(documents, progress) -> NoIndex:
    return NoIndex()
