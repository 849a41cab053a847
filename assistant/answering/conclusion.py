"""The one-line conclusion above the quotes: per city, the phrases of the cited sentences that carry the
answer (the figure, the permission or prohibition, the body that approves, the list), each verbatim and
followed by its [n]. Where no phrase qualifies there is no conclusion line: never a paraphrase."""
from __future__ import annotations

import re

from assistant.retrieval.focus import with_asked
from assistant.domain.segment import search_terms
from assistant.domain.values import Citation
from assistant.retrieval.analysis import Query
from assistant.retrieval.query import query_terms
from assistant.retrieval.rerank import CUES

_PHRASE = re.compile(r"[^，,；;。：:！？!?]+")
_MIN_PROBABILITY = 0.9  # the second stage's probability the first cited clause needs for a conclusion line
_SPECIFIC = 0.5  # weight of the words only this phrase of the quote shares with the question
_MAX_CHARS = 70
_MIN_PHRASE = 6  # characters a phrase needs to say something on its own
_MIN_OVERLAP = 0.34  # share of the question's terms a phrase must carry when no intent cue is found


def phrases(quote: str) -> list[str]:
    """The comma-delimited phrases of a quote, each verbatim; a phrase too short to stand alone ("原则上")
    is kept together with the one after it."""
    out: list[str] = []
    pending = ""
    for m in _PHRASE.finditer(quote):
        start = m.start() if not pending else quote.find(pending)
        text = quote[start:m.end()].strip()
        if len(re.sub(r"\W", "", text)) < _MIN_PHRASE:
            pending = text
            continue
        out.append(text)
        pending = ""
    return out


def _score(phrase: str, terms: set[str], cue, specific: float) -> float:
    own = set(search_terms(phrase))
    overlap = sum(len(t) for t in terms & own) / max(sum(len(t) for t in terms), 1)
    return overlap + specific + (0.6 if cue is not None and cue.search(phrase) else 0.0)


def _city_line(group: list[Citation], query: Query) -> str:
    terms = set(query_terms(query.lexical_text))
    cue = CUES.get(query.intent)
    first = group[0]
    if query.intent == "lookup" or first.score < _MIN_PROBABILITY:
        return ""  # a clause asked for by its number is its own answer; an unsure first clause gets no summary
    candidates = phrases(first.quote)
    # the phrase holding the words of the question that the other phrases lack ("牵头单位", "理事长") is the
    # one that answers it; words every phrase shares only name the topic
    specific, asked = with_asked(candidates, query.lexical_text) if candidates else (([], []), ([], []))
    scored = [(_score(p, terms, cue, _SPECIFIC * (specific[0][i] + specific[1][i] + asked[0][i] + asked[1][i])), i, p)
              for i, p in enumerate(candidates)]
    good = [s for s in scored if s[0] >= (0.6 if cue is not None else _MIN_OVERLAP)]
    if not good:
        return ""
    text = _with_neighbour(first.quote, candidates, scored, max(good)[1])
    return f"{first.city}：{text}[{first.n}]"


def _with_neighbour(quote: str, candidates: list[str], scored: list[tuple], best: int) -> str:
    """The best phrase with the phrases next to it, as one verbatim span of the quote. A policy sentence names
    its topic in one phrase and says what holds in the next ("理事长由……担任", "予以倾斜", "由……批复"): the
    phrase that matches the question best is often the topic, its neighbour the answer, and a figure is often
    qualified in the phrase after ("合作时限一般为六年，根据需要可适当延长，延长时间原则上不超过六年"). So three
    phrases around the best one when they are short enough to read at a glance (blind-dev, blind-dev2 and
    blind-dev3 with the trained ranking: conclusions correct 0.87 → 0.92, 0.85 → 0.92, 0.71 → 0.82 against
    two), else the best with its better neighbour, the one after preferred; the best phrase alone when even that
    would be too long."""
    options = [j for j in (best + 1, best - 1) if 0 <= j < len(candidates)]
    if not options:
        return candidates[best]
    if len(candidates) >= 3:
        lo = min(max(best - 1, 0), len(candidates) - 3)
        three = _span(quote, candidates[lo], candidates[lo + 2])
        if three and len(three) <= _MAX_CHARS:
            return three
    other = max(options, key=lambda j: (scored[j][0] + (0.05 if j > best else 0.0)))
    span = _span(quote, candidates[min(best, other)], candidates[max(best, other)])
    return span if span and len(span) <= _MAX_CHARS else candidates[best]


def _span(quote: str, first: str, last: str) -> str:
    """The verbatim text of `quote` from phrase `first` through phrase `last` ("" when not found in order)."""
    start = quote.find(first)
    stop = quote.find(last, start + len(first)) + len(last) if start >= 0 else -1
    return quote[start:stop].strip("，,；; ") if start >= 0 and stop > start else ""


def conclude(citations: tuple[Citation, ...], queries: dict[int, Query]) -> str:
    """One line per city and question part: `queries` maps each citation's n to the (part of the) question
    it answers."""
    groups: dict[tuple[str, int], list[Citation]] = {}
    for c in citations:
        groups.setdefault((c.city, id(queries[c.n])), []).append(c)
    lines = [_city_line(group, queries[group[0].n]) for group in groups.values()]
    return "\n".join(dict.fromkeys(line for line in lines if line))
