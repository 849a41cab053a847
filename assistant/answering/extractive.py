"""Grounded extractive answers: abstention decided in code, quotes taken verbatim from retrieved clauses."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from assistant.chunking.clauses import split_sentences
from assistant.domain.places import aliases
from assistant.retrieval.hybrid import SYNONYMS, Hit, query_terms
from assistant.domain.values import Answer, Citation, status_label
from assistant.domain.segment import search_terms
from assistant.index.store import ChunkRecord

# Words every question in this field shares; they say nothing about whether the corpus answers it.
_GENERIC_TERMS = frozenset(
    "集团 集团化 办学 集团化办学 教育 教育集团 学校 规定 要求 政策 文件 意见 方案 我们 学校 能 "
    "可以 怎么 哪些 什么 是否 多少 有 没有 吗 呢 请问 介绍 一下 内容 部分 讲 条 第 中小 中小学 "
    "我 你 这个 那个 现在 目前 如果 已经 还 想 问 成员 成员校 核心 核心校".split())
_MAX_PER_CITY = 2
_DENSE_MARGIN = 0.005
_FUSED_RATIO = 0.98
_COVERAGE_HITS = 5  # keep clauses whose similarity is close to the best one
_LISTED_CITIES = 12  # places named in a refusal's coverage line


@dataclass(frozen=True)
class Evidence:
    top_dense: float
    term_coverage: float
    informative_terms: tuple[str, ...]


@lru_cache(maxsize=8)
def _place_terms(cities: tuple[str, ...]) -> frozenset[str]:
    # once per set of cities: at 2,500 cities recomputing it took ~240 ms of every answer
    return frozenset(t for c in cities for a in aliases(c) for t in search_terms(a))


def informative_terms(question: str, cities: list[str]) -> tuple[str, ...]:
    place_terms = _place_terms(tuple(cities))
    return tuple(t for t in search_terms(question)
                 if t not in _GENERIC_TERMS and t not in place_terms and not t.isdigit())


def evidence(question: str, hits: list[Hit], store, cities: list[str]) -> Evidence:
    """Best dense similarity, and how much of the question's vocabulary (IDF-weighted, counting only
    terms the corpus knows at all, so colloquial filler does not count) the top hits contain."""
    records = store.records
    top_dense = max((h.dense for h in hits), default=0.0)
    terms = tuple(dict.fromkeys(informative_terms(question, cities)))
    known = [t for t in terms if store.document_frequency((t, *SYNONYMS.get(t, ()))) > 0]
    if not hits:
        return Evidence(top_dense, 0.0, terms)
    if any(h.structural for h in hits):  # the question named this clause by its number
        return Evidence(top_dense, 1.0, terms)
    if not known:  # nothing to check, or a question entirely in words the corpus never uses
        return Evidence(top_dense, 0.0 if terms else 1.0, terms)
    vocabulary: set[str] = set()
    for h in hits[:_COVERAGE_HITS]:
        vocabulary.update(records[h.row].terms())
    n = max(len(records), 1)
    total = covered = 0.0
    for t in known:
        variants = (t, *SYNONYMS.get(t, ()))
        weight = math.log(1 + n / store.document_frequency(variants))
        total += weight
        if any(v in vocabulary for v in variants):
            covered += weight
    return Evidence(top_dense, covered / total, terms)


def best_quote(text: str, question: str) -> str:
    """The sentence(s) of `text` sharing the most (and longest) terms with the question, verbatim."""
    terms = set(query_terms(question))
    sentences = [s for s in split_sentences(text) if s.strip()]
    if not sentences:
        return text

    def score(sentence: str) -> float:
        own = set(search_terms(sentence))
        return sum(len(t) for t in terms & own)

    scores = [score(s) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    # a sentence that only names the clause ("限定合作时间。") is extended by the next one
    quote = sentences[best]
    if len(quote.strip()) <= 12 and best + 1 < len(sentences):
        quote += sentences[best + 1]
    return quote.strip()


def select(hits: list[Hit], records: list[ChunkRecord]) -> list[Hit]:
    """The hits worth citing: each city's best, plus any close to it in both fused rank and similarity."""
    best_of_city: dict[str, Hit] = {}
    for h in hits:
        city = records[h.row].city
        if city not in best_of_city or h.score > best_of_city[city].score:
            best_of_city[city] = h
    chosen: list[Hit] = []
    per_city: dict[str, int] = {}
    for h in sorted(hits, key=lambda h: -h.score):
        city = records[h.row].city
        lead = best_of_city[city]
        close = h.score >= _FUSED_RATIO * lead.score and h.dense >= lead.dense - _DENSE_MARGIN
        if (h is lead or close) and per_city.get(city, 0) < _MAX_PER_CITY:
            per_city[city] = per_city.get(city, 0) + 1
            chosen.append(h)
    return chosen


def _same_content(a: str, b: str) -> bool:
    grams_a = {a[i:i + 2] for i in range(len(a) - 1)}
    grams_b = {b[i:i + 2] for i in range(len(b) - 1)}
    if not grams_a or not grams_b:
        return False
    return len(grams_a & grams_b) / min(len(grams_a), len(grams_b)) >= 0.6


def compose(question: str, hits: list[Hit], records: list[ChunkRecord], docs: dict[str, dict],
            cities: tuple[str, ...]) -> Answer:
    chosen = select(hits, records)
    quotes = {h.row: best_quote(records[h.row].text, question) for h in chosen}
    notices: list[str] = []

    # Prefer the normative text when an interpretation repeats it.
    normative_quotes = [quotes[h.row] for h in chosen if records[h.row].status == "official"]
    kept: list[Hit] = []
    for h in chosen:
        record = records[h.row]
        interprets = docs.get(record.doc_id, {}).get("interprets")
        if record.status == "interpretation" and any(_same_content(quotes[h.row], q) for q in normative_quotes):
            target = docs.get(interprets, {}).get("title", "正式文件")
            notices.append(f"政策解读中有相同内容，已以正式文件《{target}》为准。")
            continue
        kept.append(h)

    citations = tuple(
        Citation(chunk_id=r.chunk_id, doc_id=r.doc_id, title=r.title, city=r.city, doc_number=r.doc_number,
                 clause=r.clause, status=r.status, text=r.text, score=round(h.score, 4), n=n,
                 quote=quotes[h.row])
        for n, (h, r) in enumerate(((h, records[h.row]) for h in kept), start=1))

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
    return Answer(question=question, answer="\n".join(lines), abstained=False, citations=citations,
                  notices=tuple(dict.fromkeys(notices)), cities=cities)


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


def abstain(question: str, reason: str, covered_cities: list[str], cities: tuple[str, ...] = (),
            notices: tuple[str, ...] = ()) -> Answer:
    coverage = "、".join(covered_cities[:_LISTED_CITIES])
    if len(covered_cities) > _LISTED_CITIES:  # a corpus of thousands of districts is not listed in full
        coverage += f"等 {len(covered_cities)} 个地区"
    text = f"{reason}目前语料覆盖：{coverage}。"
    return Answer(question=question, answer=text, abstained=True, notices=notices, cities=cities)
