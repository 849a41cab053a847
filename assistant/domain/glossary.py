"""The domain glossary (domain/data/glossary.toml): colloquial and English words → the documents' words."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_PATH = Path(__file__).resolve().parent / "data" / "glossary.toml"


@dataclass(frozen=True)
class Glossary:
    version: int
    colloquial: dict[str, tuple[str, ...]]
    english: dict[str, tuple[str, ...]]

    def variants(self, term: str) -> tuple[str, ...]:
        """Document terms a question term may stand for (the term itself first)."""
        return (term, *self.colloquial.get(term, ()))

    def colloquial_terms(self, text: str) -> tuple[str, ...]:
        """Document terms for the colloquial words of a Chinese question ("路费谁掏" → 交通、费用、承担…), for
        words of two characters or more that the question contains and the documents do not use as such."""
        found: list[str] = []
        for word, terms in self.colloquial.items():
            if len(word) >= 2 and word in text:
                found.extend(t for t in terms if t not in text)
        return tuple(dict.fromkeys(found))

    def english_terms(self, text: str) -> tuple[str, ...]:
        """Document terms for the English words and phrases of `text`, longest phrase first."""
        lowered = " " + re.sub(r"[^a-z0-9\-]+", " ", text.lower()) + " "
        found: list[str] = []
        for phrase in sorted(self.english, key=len, reverse=True):
            padded = f" {phrase} "
            if padded in lowered:
                found.extend(self.english[phrase])
                lowered = lowered.replace(padded, "  ")
        return tuple(dict.fromkeys(found))


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    data = tomllib.loads(_PATH.read_text(encoding="utf-8"))
    return Glossary(int(data["version"]),
                    {k: tuple(v) for k, v in data["colloquial"].items()},
                    {k.lower(): tuple(v) for k, v in data["english"].items()})
