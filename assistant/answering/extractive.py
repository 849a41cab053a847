"""Grounded extractive answers: quotes taken verbatim from the retrieved clauses, grouped by city."""
from __future__ import annotations

import re

import numpy as np

from assistant.answering.conclusion import conclude
from assistant.chunking.clauses import quote_units
from assistant.domain.segment import search_terms
from assistant.domain.values import Answer, Citation, status_label
from assistant.index.records import ChunkRecord
from assistant.retrieval.analysis import Query
from assistant.retrieval.query import query_terms
from assistant.retrieval.rerank import CUES, FIGURE, Candidate

_MAX_PER_CITY = 2
_SECOND_RATIO = 0.85  # a second clause of the same city is cited when nearly as probable as the best


def cite(record: ChunkRecord, score: float, n: int, quote: str) -> Citation:
    """A retrieved row as users see it: the one place a Citation is made from the index."""
    return Citation(chunk_id=record.chunk_id, doc_id=record.doc_id, title=record.title, city=record.city,
                    doc_number=record.doc_number, clause=record.clause, status=record.status, text=record.text,
                    score=round(score, 4), n=n, quote=quote)


def best_quote(text: str, question: str, query: Query | None = None,
               sentence_scores: np.ndarray | None = None) -> str:
    """The sentence(s) of `text` that answer, verbatim: the sentence most similar to the question (sentence
    vectors, when the index has them) and sharing its terms, never a heading alone; extended to the next
    sentence when a list or a figure continues there."""
    units = quote_units(text)
    if not units:
        return text.strip()
    terms = set(query_terms(query.search_text if query else question))
    cue = CUES.get(query.intent) if query else None
    dense = sentence_scores if sentence_scores is not None and len(sentence_scores) == len(units) else None
    scores = []
    for i, unit in enumerate(units):
        own = set(search_terms(unit))
        lexical = sum(len(t) for t in terms & own) / max(sum(len(t) for t in terms), 1)
        score = (float(dense[i]) if dense is not None else 0.0) + 0.25 * lexical
        score += 0.04 * bool(cue and cue.search(unit)) - 0.3 * _heading_like(unit)
        scores.append(score)
    best = max(range(len(units)), key=lambda i: (scores[i], -i))
    end = best + 1
    while end < len(units) and end - best < 4 and _continues(units[end - 1], units[end], query):
        end += 1
    return "".join(units[best:end]) if "\n" not in text else _join(text, units[best:end])


def _join(text: str, units: list[str]) -> str:
    """Consecutive units as they stand in the text (a line break between them is kept), still verbatim."""
    start = text.find(units[0])
    stop = text.find(units[-1], start) + len(units[-1])
    return text[start:stop] if start >= 0 and stop > start else units[0]


_MARKER = re.compile(r"^(?:[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、]|[一二三四五六七八九十]是|其[一二三四五六])")


def _heading_like(unit: str) -> bool:
    """"1. 建设紧密融合型教育集团。", "限定合作时间。": a heading sentence, not an answer."""
    body = _MARKER.sub("", unit).strip().rstrip("。：:")
    return len(body) <= 14 and not re.search(r"[，,；;]", body)


def _continues(current: str, following: str, query: Query | None) -> bool:
    if current.rstrip().endswith(("：", ":")) or _heading_like(current):
        return True
    if query is not None and query.intent == "list" and _MARKER.match(following):
        return True
    if query is not None and query.intent == "numeric" and not FIGURE.search(current) and FIGURE.search(following):
        return True
    return False


def select(candidates: list[Candidate], records: list[ChunkRecord]) -> list[Candidate]:
    """The candidates worth citing: each city's most probable one, and a second nearly as probable."""
    chosen: list[Candidate] = []
    best: dict[str, float] = {}
    for c in sorted(candidates, key=lambda c: -c.probability):
        city = records[c.hit.row].city
        if city not in best:
            best[city] = c.probability
            chosen.append(c)
        elif c.probability >= _SECOND_RATIO * best[city] and sum(
                records[x.hit.row].city == city for x in chosen) < _MAX_PER_CITY:
            chosen.append(c)
    return chosen


def _same_content(a: str, b: str) -> bool:
    grams_a = {a[i:i + 2] for i in range(len(a) - 1)}
    grams_b = {b[i:i + 2] for i in range(len(b) - 1)}
    if not grams_a or not grams_b:
        return False
    return len(grams_a & grams_b) / min(len(grams_a), len(grams_b)) >= 0.6


def compose(question: str, chosen: list[Candidate], records: list[ChunkRecord], docs: dict[str, dict],
            cities: tuple[str, ...], queries: dict[int, Query] | None = None) -> Answer:
    """`queries` maps each chosen candidate's row to the question (part) it answers."""
    queries = queries or {}
    quotes = {c.hit.row: best_quote(records[c.hit.row].text, question, queries.get(c.hit.row), c.sentence_scores)
              for c in chosen}
    notices: list[str] = []

    # Prefer the normative text when an interpretation repeats it.
    normative_quotes = [quotes[c.hit.row] for c in chosen if records[c.hit.row].status == "official"]
    kept: list[Candidate] = []
    for c in chosen:
        record = records[c.hit.row]
        interprets = docs.get(record.doc_id, {}).get("interprets")
        if record.status == "interpretation" and any(_same_content(quotes[c.hit.row], q) for q in normative_quotes):
            target = docs.get(interprets, {}).get("title", "正式文件")
            notices.append(f"政策解读中有相同内容，已以正式文件《{target}》为准。")
            continue
        kept.append(c)

    citations = tuple(cite(records[c.hit.row], c.probability, n, quotes[c.hit.row])
                      for n, c in enumerate(kept, start=1))

    by_city: dict[str, list[Citation]] = {}
    for c in citations:
        by_city.setdefault(c.city, []).append(c)
    lines = ["根据检索到的政策条款："]
    for city, group in by_city.items():
        if len(by_city) > 1:
            lines.append(f"\n【{city}】")
        for c in group:
            source = f"《{c.title}》{c.clause}"
            lines.append(f"「{c.quote}」[{c.n}]（{source}）")
    notices.extend(status_notices(citations, docs))
    by_n = {cit.n: queries[c.hit.row] for cit, c in zip(citations, kept) if c.hit.row in queries}
    conclusion = conclude(citations, by_n) if len(by_n) == len(citations) else ""
    return Answer(question=question, answer="\n".join(lines), abstained=False, citations=citations,
                  notices=tuple(dict.fromkeys(notices)), cities=cities, conclusion=conclusion)


def status_notices(citations: tuple[Citation, ...], docs: dict[str, dict]) -> list[str]:
    """Warnings for cited clauses that are not normative text (drafts, interpretations)."""
    notices: list[str] = []
    for c in citations:
        if c.status == "draft":
            notices.append(f"[{c.n}] 出自{status_label(c.status)}，尚未正式施行，仅供参考。")
        elif c.status == "interpretation":
            target = docs.get(docs.get(c.doc_id, {}).get("interprets") or "", {}).get("title")
            basis = f"以《{target}》正文为准" if target else "以正式文件为准"
            notices.append(f"[{c.n}] 出自{status_label(c.status)}，不是规范性条款，{basis}。")
    return notices


