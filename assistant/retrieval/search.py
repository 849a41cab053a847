"""Search within a scope: the cities a question is about, each searched on its own when there are several."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest

from assistant.domain.places import find_places
from assistant.retrieval.hybrid import Hit, HybridRetriever


@dataclass(frozen=True)
class Scope:
    """The cities a question is about, with notices about places the corpus does not cover; `refusal` says
    why it cannot be answered at all (it names only places the corpus does not cover)."""

    cities: tuple[str, ...]
    notices: tuple[str, ...] = ()
    refusal: str | None = None
    uncovered: tuple[str, ...] = ()


def resolve_scope(question: str, chosen: list[str] | None, known: list[str]) -> Scope:
    """Cities chosen by the user win; otherwise the covered places the question names."""
    places = find_places(question, known)
    notices: list[str] = []
    if chosen:
        unknown = [c for c in chosen if c not in known]
        if unknown:
            return Scope(tuple(chosen), refusal=f"语料中没有{'、'.join(unknown)}的文件。")
        cities = tuple(chosen)
    else:
        cities = places.covered
    if places.uncovered:
        missing = "、".join(places.uncovered)
        if not cities:
            return Scope((), (f"未覆盖的地区：{missing}",),
                         f"语料中没有{missing}的集团化办学政策文件，无法回答该地的规定。", places.uncovered)
        notices.append(f"语料中没有{missing}的文件，以下仅包含{'、'.join(cities)}的规定。")
    return Scope(cities, tuple(notices), None, places.uncovered)


class Searcher:
    """Hybrid search over one snapshot, per city when a question covers several."""

    def __init__(self, retriever: HybridRetriever, embedder):
        self.retriever = retriever
        self.embedder = embedder

    def hits(self, question: str, k: int, cities: tuple[str, ...], mode: str = "hybrid", vector=None) -> list[Hit]:
        if vector is None and mode != "bm25":
            vector = self.embedder.query_vector(question)
        if len(cities) <= 1:
            return self.retriever.search(question, k, cities=list(cities) or None, mode=mode, vector=vector)
        # one search per city, so a city with many clauses cannot crowd out another's single one
        per_city = max(2, k // len(cities) + 1)
        ranked = [self.retriever.search(question, per_city, cities=[city], mode=mode, vector=vector)
                  for city in cities]
        # interleave by rank (each city's best first), so the merged order stays meaningful
        return [h for rank in zip_longest(*ranked) for h in rank if h is not None]
