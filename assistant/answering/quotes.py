"""Choosing the sentence(s) of a clause that answer: verbatim, never a heading alone, extended when a list
or a figure continues in the next sentence.

Each sentence is scored from its vector's similarity to the question (sentence vectors are made at index
time), the question's words it contains, whether it holds what the question asks for (a figure, an approving
body, 不得/可以, a list), and its place in the clause. The weights are learned with the ranking stage from the
development splits (ranker.json, "quote"); without them a hand-set score is used."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.chunking.clauses import quote_units
from assistant.domain.segment import search_terms
from assistant.retrieval.analysis import Query
from assistant.retrieval.query import query_terms
from assistant.retrieval.focus import asked_marks, with_asked
from assistant.retrieval.rerank import CUES, FIGURE, WEIGHTS, Forest

QUOTE_FEATURES = ("dense", "dense_gap", "lexical", "cue", "heading", "first", "first_substantive", "position",
                  "length", "listing", "figure", "lookup_first", "specific_terms", "specific_bigrams", "asked_terms",
                  "asked_bigrams", "asked_figures", "asked_quotes")
_MARKER = re.compile(r"^(?:[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、]|[一二三四五六七八九十]是|其[一二三四五六])")
_LOOKUP_CHARS = 200  # how much of a clause asked for by its number is quoted
_SURE = 0.68  # below this probability that the best sentence beats its neighbour, both are quoted
_LISTING = re.compile(r"、.*、|是指|包括|即|分为|主要有|如下")


def heading_like(unit: str) -> bool:
    """"1. 建设紧密融合型教育集团。", "限定合作时间。": a heading sentence, not an answer."""
    body = _MARKER.sub("", unit).strip().rstrip("。：:")
    return len(body) <= 14 and not re.search(r"[，,；;]", body)


def unit_features(units: list[str], query: Query | None, question: str, dense: np.ndarray | None) -> np.ndarray:
    terms = set(query_terms(query.lexical_text if query else question))
    total = max(sum(len(t) for t in terms), 1)
    cue = CUES.get(query.intent) if query else None
    lookup = query is not None and query.intent == "lookup"
    best_dense = float(dense.max()) if dense is not None and len(dense) else 0.0
    substantive = next((i for i, u in enumerate(units) if not heading_like(u)), 0)
    text = query.lexical_text if query else question
    (specific_terms, specific_pairs), (asked_terms, asked_pairs) = with_asked(units, text)
    figures, quoted = asked_marks(units, query.text if query else question)
    rows = []
    for i, unit in enumerate(units):
        d = float(dense[i]) if dense is not None else 0.0
        lexical = sum(len(t) for t in terms & set(search_terms(unit))) / total
        rows.append((d, d - best_dense, lexical, float(bool(cue and cue.search(unit))), float(heading_like(unit)),
                     float(i == 0), float(i == substantive), i / max(len(units) - 1, 1),
                     math.log(len(unit) + 1) / 5, float(bool(_LISTING.search(unit))),
                     float(bool(FIGURE.search(unit))), float(lookup and i == substantive),
                     specific_terms[i], specific_pairs[i], asked_terms[i], asked_pairs[i], figures[i], quoted[i]))
    return np.asarray(rows, dtype=np.float32)


@dataclass(frozen=True)
class QuoteModel:
    """Scores each sentence of a clause; a difference of two scores is the log-odds that one answers rather
    than the other (trees' scores are scaled to that at training). Trees when trained, else a linear score."""

    coef: np.ndarray
    intercept: float
    trees: Forest | None = None
    scale: float = 1.0

    def scores(self, matrix: np.ndarray, with_vectors: bool = True) -> np.ndarray:
        """`with_vectors`: the rows hold the sentences' similarities to the question. The trees learned with
        them and split on them often (after length, the similarity gap is their most frequent first split), so
        without them (a comparison topic's sentences) the linear score, which only adds them, answers instead."""
        if self.trees is not None and with_vectors:
            return self.scale * self.trees.predict(matrix)
        return matrix @ self.coef + self.intercept

    @classmethod
    def from_weights(cls, data: dict) -> "QuoteModel":
        """From ranker.json's "quote" entry; the hand-set fallback for weights of another feature set."""
        if data.get("features") != list(QUOTE_FEATURES):
            return _FALLBACK
        try:
            trees = Forest.from_json(data["trees"]) if data.get("trees") else None
            return cls(np.asarray(data["coef"], dtype=np.float32), float(data["intercept"]), trees,
                       float(data.get("scale", 1.0)))
        except (KeyError, TypeError, ValueError):
            return _FALLBACK


# hand-set: similarity, the question's words, what it asks for; headings down; a looked-up clause's beginning up
DEFAULT_QUOTE_WEIGHTS = (1.0, 0.0, 0.35, 0.08, -0.3, 0, 0, 0, 0, 0, 0, 0.5, 0.7, 0.7, 0, 0, 0.5, 0.5)
_FALLBACK = QuoteModel(np.asarray(DEFAULT_QUOTE_WEIGHTS, dtype=np.float32), 0.0)


@lru_cache(maxsize=1)
def quote_model() -> QuoteModel:
    try:
        data = json.loads(WEIGHTS.read_text(encoding="utf-8")).get("quote") or {}
    except (OSError, json.JSONDecodeError):
        data = {}
    return QuoteModel.from_weights(data)


def best_quote(text: str, question: str, query: Query | None = None,
               sentence_scores: np.ndarray | None = None) -> str:
    """The sentence(s) of `text` that answer, verbatim."""
    units = quote_units(text)
    if not units:
        return text.strip()
    if query is not None and query.intent == "lookup":
        return _opening(text, units)
    dense = sentence_scores if sentence_scores is not None and len(sentence_scores) == len(units) else None
    scores = quote_model().scores(unit_features(units, query, question, dense), dense is not None)
    best = max(range(len(units)), key=lambda i: (scores[i], -i))
    start, end = _with_close_neighbour(scores, best)
    while end < len(units) and end - best < 4 and _continues(units[end - 1], units[end], query, end - 1 == best):
        end += 1
    return "".join(units[start:end]) if "\n" not in text else _join(text, units[start:end])


def _with_close_neighbour(scores: np.ndarray, best: int) -> tuple[int, int]:
    """The best sentence, and the sentence beside it when that is the runner-up and the model is not sure which
    of the two answers (the weights are learned on pairs of sentences, so σ(score difference) is the probability
    that the best really is the better one). Quoting both keeps the quote one verbatim span; across the
    development splits, each decided by weights learned on the others, the answering sentence was in the quote
    0.934 of the time against 0.901 for the best sentence alone, with one quote in ten two sentences long."""
    if len(scores) < 2:
        return best, best + 1
    runner = max((i for i in range(len(scores)) if i != best), key=lambda i: (scores[i], -i))
    sure = 1.0 / (1.0 + math.exp(-float(scores[best] - scores[runner])))
    if abs(runner - best) != 1 or sure >= _SURE:
        return best, best + 1
    return min(best, runner), max(best, runner) + 1


def _opening(text: str, units: list[str]) -> str:
    """"第三部分第5条讲什么": the clause itself answers, so it is quoted from its first sentence on, whole when
    short, else as many sentences as fit in _LOOKUP_CHARS (at least one past a heading sentence it opens with).
    The heading sentence is kept: "是关于什么的" is answered by it first of all."""
    start = 0
    end = 2 if len(units) > 1 and heading_like(units[0]) else 1
    while end < len(units) and sum(len(u) for u in units[start:end + 1]) <= _LOOKUP_CHARS:
        end += 1
    return "".join(units[start:end]) if "\n" not in text else _join(text, units[start:end])


def _join(text: str, units: list[str]) -> str:
    """Consecutive units as they stand in the text (a line break between them is kept), still verbatim."""
    start = text.find(units[0])
    stop = text.find(units[-1], start) + len(units[-1])
    return text[start:stop] if start >= 0 and stop > start else units[0]


def _continues(current: str, following: str, query: Query | None, first: bool) -> bool:
    """Whether the quote goes on into the next sentence: after a lead-in ("包括：") or a heading it starts with,
    into the next item of a list, or to the figure a "how many" question asks for."""
    if current.rstrip().endswith(("：", ":")) or (first and heading_like(current)):
        return True
    if query is not None and query.intent == "list" and _MARKER.match(following):
        return True
    if query is not None and query.intent == "numeric" and not FIGURE.search(current) and FIGURE.search(following):
        return True
    return False
