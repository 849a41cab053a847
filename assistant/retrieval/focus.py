"""The words of a question that can tell candidates apart, and how specific each candidate is to them.

Used at three grains: the sentences of one clause (which sentence answers), the phrases of one quote (which
phrase concludes), and the candidate clauses of a question (which clause's text is specific to it). Character pairs stand beside words because word segmentation splits the question and the documents
differently (拨 / 拨付, 学校之间 / 学校间)."""
from __future__ import annotations

import math
import re
from functools import lru_cache

from assistant.domain.glossary import glossary
from assistant.domain.segment import fold, search_terms, tagged

# Words every question in this field shares, and words that carry no content in a question; they say nothing
# about whether a clause answers it.
GENERIC_TERMS = frozenset(
    "集团 集团化 办学 集团化办学 教育 教育集团 学校 规定 要求 政策 文件 意见 方案 我们 能 可以 怎么 哪些 什么 "
    "是否 多少 有 没有 吗 呢 请问 介绍 一下 内容 部分 讲 条 第 中小 中小学 我 你 这个 那个 现在 目前 如果 已经 "
    "还 想 问 成员 成员校 核心 核心校 不能 能不能 可不可以 很多 一些 一下子 怎么办 怎样 如何 需要 应该 得 要 "
    "会 啊 吧 呀 么 嘛 啥 咋 咱们 咱 他们 自己".split())


# a clause of a question that asks ("…要开什么票据？"), as opposed to one that sets the scene ("我们集团…，")
_ASKING = re.compile(r"吗|什么|啥|怎么|怎样|如何|哪|谁|多少|多久|多长|几|能不能|能否|可不可以|可否|是否|有没有|"
                     r"要不要|需不需要|该不该|行不行|算不算|[？?]")
_CLAUSE_END = re.compile(r"(?<=[，,。；;！!？?：:])")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_BARE_ASK = 8  # an asking clause with fewer characters than this besides its question words asks about the one before


@lru_cache(maxsize=256)
def asking_text(text: str) -> str:
    """The clauses of a question that ask, without the ones that set the scene: "我们是聚合型集团里的成员校，
    自己还是独立法人。核心校能不能直接派个执行校长过来？" asks about 执行校长, not about 独立法人, although a
    sentence on 独立法人 shares more of its words. A bare "真是这么回事吗？" asks about the clause before it.
    The whole text when no clause asks."""
    pieces = _CLAUSE_END.split(text)
    chosen: set[int] = set()
    for i, piece in enumerate(pieces):
        if _ASKING.search(piece):
            chosen.add(i)
            if i and len(_CJK.findall(_ASKING.sub("", piece))) < _BARE_ASK:
                chosen.add(i - 1)
    return "".join(pieces[i] for i in sorted(chosen)) or text


@lru_cache(maxsize=256)
def without_places(text: str) -> str:
    """The text without the place names it holds (jieba's "ns" words): which place is asked is settled before
    sentences and candidates are told apart, so a place name says nothing about which one answers."""
    places = {w for w, flag in tagged(text) if flag == "ns"}
    for place in sorted(places, key=len, reverse=True):
        text = text.replace(place, " ")
    return text


@lru_cache(maxsize=256)
def question_focus(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The words and character pairs of a question that can tell one sentence of a clause from another: not
    the place it names (jieba's "ns" words: which city is asked is settled before quoting), not the words every
    question in this field shares. Character pairs catch what word segmentation splits differently in the
    question and the text (拨 / 拨付, 学校之间 / 学校间), and pairs one character apart catch what the documents
    contract (直接升 / 直升)."""
    text = without_places(text)
    terms = tuple(dict.fromkeys(t for t in search_terms(text) if t not in GENERIC_TERMS and not t.isdigit()))
    return terms, frozenset(bigrams(text) | skip_bigrams(text))


Specificity = tuple[list[float], list[float]]  # per unit: (words, character pairs)


def with_asked(units: list[str], text: str) -> tuple[Specificity, Specificity]:
    """specificity() for the whole question and for its asking clauses (the same, computed once, when every
    clause asks or none does)."""
    whole = specificity(units, text)
    asking = asking_text(text)
    return whole, (whole if asking == text else specificity(units, asking))


def bigrams(text: str) -> set[str]:
    runs = re.findall(r"[\u4e00-\u9fffA-Za-z0-9+]+", text)
    return {run[i:i + 2] for run in runs for i in range(len(run) - 1)}


def skip_bigrams(text: str) -> set[str]:
    """Pairs of characters one apart: the documents' contracted forms of what a question spells out (直接升 /
    直升, 负总责 / 负责, 学校之间 / 校间). Only the question's side: a sentence's own pairs stay contiguous."""
    runs = re.findall(r"[\u4e00-\u9fff]+", text)
    return {run[i] + run[i + 2] for run in runs for i in range(len(run) - 2)}


@lru_cache(maxsize=16384)
def _profile(unit: str) -> tuple[frozenset[str], frozenset[str]]:
    """A unit's words and character pairs; clauses and sentences recur from question to question."""
    return frozenset(search_terms(unit)), frozenset(bigrams(unit))


def specificity(units: list[str], text: str) -> tuple[list[float], list[float]]:
    """Per sentence, the share of the question's focus words and character pairs it holds, each weighted by
    how few sentences of this clause hold it (IDF within the clause): a word every sentence shares says
    nothing about which one answers, the word only one sentence has says a lot."""
    terms, pairs = question_focus(text)
    g = glossary()
    profiles = [_profile(u) for u in units]
    variants = [g.variants(t) for t in terms]

    def holds(options: tuple[str, ...], i: int) -> bool:
        own = profiles[i][0]
        return any(v in own or (len(v) >= 2 and v in units[i]) for v in options)

    n = len(units)
    term_rows = [[holds(v, i) for v in variants] for i in range(n)]
    term_w = [math.log(1 + n / df) if (df := sum(row[j] for row in term_rows)) else 0.0 for j in range(len(terms))]
    # a pair no unit holds weighs nothing: only the ones some unit holds are counted
    pair_list = sorted(pairs & frozenset().union(*(p[1] for p in profiles)))
    pair_rows = [[p in profiles[i][1] for p in pair_list] for i in range(n)]
    pair_w = [math.log(1 + n / df) if (df := sum(row[j] for row in pair_rows)) else 0.0
              for j in range(len(pair_list))]
    term_total, pair_total = sum(term_w) or 1.0, sum(pair_w) or 1.0
    return ([sum(w for w, h in zip(term_w, row) if h) / term_total for row in term_rows],
            [sum(w for w, h in zip(pair_w, row) if h) / pair_total for row in pair_rows])


_NUMBER = re.compile(r"\d+")
_YEAR = re.compile(r"(?:19|20)\d{2}(?=年)")
_QUOTED = re.compile(r"[“\"「『‘]([^”\"」』’]{1,24})[”\"」』’]")
_QUOTE_PAIRS = ("“”", '""', "「」", "『』", "‘’")


def asked_marks(units: list[str], text: str) -> tuple[list[float], list[float]]:
    """Per sentence, how far it holds what the question marks out exactly, which word overlap ignores:
    - the question's own figures (share of its numbers the sentence repeats; −1 when the question names a year
      and the sentence names only other years): "到2020年建多少个" is answered by the 2020 sentence, not by
      the 2025 one beside it, though both share every word;
    - the terms it puts in quotation marks (1 where the sentence quotes the term too, as a definition does,
      ½ where it only contains it; a quoted term holding another one only places it): "“1+N+X”模式里的“X”
      指的是哪些" is answered by "“X”是指…", not by "…“1+N+X”模式".
    Zeros when the question marks nothing."""
    folded = fold(text)
    numbers = set(_NUMBER.findall(folded))
    years = set(_YEAR.findall(folded))
    named = [q for q in dict.fromkeys(_QUOTED.findall(folded)) if q.strip()]
    # "“1+N+X”模式里的“X”": the whole is named to place the part the question asks about
    quoted = [q for q in named if not any(o != q and o in q for o in named)]
    figures, quotes = [], []
    for unit in units:
        own = fold(unit)
        share = len(numbers & set(_NUMBER.findall(own))) / len(numbers) if numbers else 0.0
        other_years = set(_YEAR.findall(own))
        conflict = bool(years) and bool(other_years) and not years & other_years
        figures.append(-1.0 if conflict else share)
        quotes.append(sum(1.0 if any(f"{o}{q}{c}" in own for o, c in _QUOTE_PAIRS) else 0.5 if q in own else 0.0
                          for q in quoted) / len(quoted) if quoted else 0.0)
    return figures, quotes
