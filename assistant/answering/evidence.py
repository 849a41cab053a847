"""Whether the retrieved clauses answer a question at all: decided in code, before any answer is composed."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from assistant.domain.places import aliases
from assistant.domain.segment import search_terms
from assistant.domain.values import Answer
from assistant.retrieval.hybrid import Hit
from assistant.domain.glossary import glossary

# Words every question in this field shares; they say nothing about whether the corpus answers it.
_GENERIC_TERMS = frozenset(
    "集团 集团化 办学 集团化办学 教育 教育集团 学校 规定 要求 政策 文件 意见 方案 我们 学校 能 "
    "可以 怎么 哪些 什么 是否 多少 有 没有 吗 呢 请问 介绍 一下 内容 部分 讲 条 第 中小 中小学 "
    "我 你 这个 那个 现在 目前 如果 已经 还 想 问 成员 成员校 核心 核心校".split())
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
    known = [t for t in terms if store.document_frequency(glossary().variants(t)) > 0]
    if not hits:
        return Evidence(top_dense, 0.0, terms)
    if any(h.structural for h in hits):  # the question named this clause by its number
        return Evidence(top_dense, 1.0, terms)
    if not known:  # nothing to check, or a question entirely in words the corpus never uses
        return Evidence(top_dense, 0.0 if terms else 1.0, terms)
    vocabulary: set[str] = set()
    for h in hits[:_COVERAGE_HITS]:
        vocabulary.update(store.row_terms(h.row))
    n = max(len(records), 1)
    total = covered = 0.0
    for t in known:
        variants = glossary().variants(t)
        weight = math.log(1 + n / store.document_frequency(variants))
        total += weight
        if any(v in vocabulary for v in variants):
            covered += weight
    return Evidence(top_dense, covered / total, terms)


def abstain(question: str, reason: str, covered_cities: list[str], cities: tuple[str, ...] = (),
            notices: tuple[str, ...] = ()) -> Answer:
    coverage = "、".join(covered_cities[:_LISTED_CITIES])
    if len(covered_cities) > _LISTED_CITIES:  # a corpus of thousands of districts is not listed in full
        coverage += f"等 {len(covered_cities)} 个地区"
    text = f"{reason}目前语料覆盖：{coverage}。"
    return Answer(question=question, answer=text, abstained=True, notices=notices, cities=cities)
