"""Search within a scope: the places a question is about, each searched on its own when there are several,
each together with the places above it whose documents also govern a school there (its layers)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest

from assistant.domain.divisions import lineage, place_of
from assistant.domain.places import find_places
from assistant.retrieval.hybrid import Hit, HybridRetriever


@dataclass(frozen=True)
class Scope:
    """The places a question is about, with notices about places the corpus does not cover; `refusal` says
    why it cannot be answered at all (it names only places the corpus does not cover). `layers[i]` are the
    covered places searched for `cities[i]`: itself, then the covered places above it (青岛市 → 青岛市, 山东省,
    全国), or only itself when the question is restricted to the place."""

    cities: tuple[str, ...]
    notices: tuple[str, ...] = ()
    refusal: str | None = None
    uncovered: tuple[str, ...] = ()
    layers: tuple[tuple[str, ...], ...] = ()
    layered: bool = True

    def groups(self) -> tuple[tuple[str, ...], ...]:
        return self.layers or tuple((c,) for c in self.cities)

    def searched(self) -> tuple[str, ...]:
        """Every place searched, each once."""
        return tuple(dict.fromkeys(p for group in self.groups() for p in group))

    def describe(self) -> str:
        """'青岛市' or '青岛市（含上级：山东省、全国）', for messages about what was searched."""
        parts = []
        for city, group in zip(self.cities, self.groups()):
            above = [p for p in group if p != city]
            parts.append(f"{city}（含上级：{'、'.join(above)}）" if above else city)
        return "、".join(parts)


def governing_places(place: str, known: Sequence[str]) -> tuple[str, ...]:
    """The covered places whose documents govern a school in `place`, nearest first: the place itself when
    covered, then each covered place above it (郑州市中原区 → 郑州市中原区, 郑州市, 河南省, 全国)."""
    chain = [p.name for p in lineage(place)]
    if place not in chain:
        chain.insert(0, place)
    return tuple(name for name in chain if name in known)


def _layer_notice(place: str, above: tuple[str, ...]) -> str:
    labels = "、".join(f"{p}（{level}）" for p, level in ((p, _level_label(p)) for p in above))
    return f"语料中没有{place}本地的文件，以下依据其上级{labels}的规定回答。"


def _full_name(name: str) -> str:
    place = place_of(name)
    return place.name if place is not None else name


def _level_label(name: str) -> str:
    place = place_of(name)
    return place.level_label if place is not None else "上级"


def resolve_scope(question: str, chosen: list[str] | None, known: list[str], layered: bool = True) -> Scope:
    """Places chosen by the user win; otherwise the places the question names. With `layered`, each is searched
    with the covered places above it, and a place with no documents of its own but with covered places above
    it is answered from those, with a notice; without, only the place's own documents count."""
    places = find_places(question, known)
    notices: list[str] = []
    # a place without documents of its own, by its full name (济南 → 济南市), with the covered places above it
    names = {p: _full_name(p) for p in (*(chosen or ()), *places.uncovered) if p not in known}
    inherited = {p: governing_places(names[p], known) for p in names} if layered else {}
    inherited = {p: above for p, above in inherited.items() if above}
    if chosen:
        unknown = [c for c in chosen if c not in known and c not in inherited]
        if unknown:
            return Scope(tuple(chosen), refusal=f"语料中没有{'、'.join(unknown)}的文件。")
        cities = tuple(names.get(c, c) for c in chosen)
    else:
        cities = (*places.covered, *(names[p] for p in places.uncovered if p in inherited))
    inherited = {names[p]: above for p, above in inherited.items()}
    uncovered = tuple(p for p in places.uncovered if names[p] not in inherited)
    notices.extend(_layer_notice(p, inherited[p]) for p in cities if p in inherited)
    if uncovered:
        missing = "、".join(uncovered)
        if not cities:
            return Scope((), (f"未覆盖的地区：{missing}",),
                         f"语料中没有{missing}的集团化办学政策文件，无法回答该地的规定。", uncovered)
        notices.append(f"语料中没有{missing}的文件，以下仅包含{'、'.join(cities)}的规定。")
    layers = tuple((governing_places(c, known) or (c,)) if layered else (c,) for c in cities)
    return Scope(cities, tuple(notices), None, uncovered, layers, layered)


class Searcher:
    """Hybrid search over one snapshot, per city when a question covers several."""

    def __init__(self, retriever: HybridRetriever, embedder):
        self.retriever = retriever
        self.embedder = embedder

    def hits(self, question: str, k: int, groups: tuple[tuple[str, ...], ...], mode: str = "hybrid",
             vector=None) -> list[Hit]:
        """Hits within the groups of places (a city with its layers is one group, searched as one pool, so a
        provincial clause competes with the city's own on equal terms)."""
        if vector is None and mode != "bm25":
            vector = self.embedder.query_vector(question)
        if len(groups) <= 1:
            places = list(groups[0]) if groups else None
            return self.retriever.search(question, k, cities=places or None, mode=mode, vector=vector)
        # one search per city, so a city with many clauses cannot crowd out another's single one
        per_city = max(2, k // len(groups) + 1)
        ranked = [self.retriever.search(question, per_city, cities=list(group), mode=mode, vector=vector)
                  for group in groups]
        # interleave by rank (each city's best first), so the merged order stays meaningful
        return [h for rank in zip_longest(*ranked) for h in rank if h is not None]
