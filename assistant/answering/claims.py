"""What a sentence claims, and whether its cited clauses say it: the facts in a sentence (numbers with their
units, percentages, ratios, dates, named bodies) must each occur in a cited clause, and its key terms must
mostly occur there too. Pure functions over text; `llm.check` applies them to every sentence of a model's answer.

Numbers are compared by value, whatever the spelling: 六年 = 6年 = ６年, 百分之十五 = 15%, 一百年 = 100年."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.domain.places import aliases
from assistant.domain.segment import fold, search_terms, tagged
from assistant.domain.glossary import glossary

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN = "零〇一二两三四五六七八九十百千万"
_NUM = rf"(?:\d+(?:\.\d+)?|[{_CN}]+)"

# unit as written → the unit it is compared in
_UNITS = {
    "个月": "月", "月": "月", "年": "年", "周年": "年", "学年": "学年", "学期": "学期", "周": "周", "星期": "周",
    "天": "日", "日": "日", "小时": "小时", "课时": "课时", "节": "节", "所": "所", "个": "个", "次": "次",
    "人": "人", "名": "人", "位": "人", "万元": "万元", "元": "元", "岁": "岁", "项": "项", "届": "届",
    "批": "批", "家": "家", "轮": "轮", "倍": "倍",
}
_ARTICLE_UNITS = frozenset("个 人 批 家 轮 项 所".split())  # "一个", "一名", "一批": articles more than counts
_UNIT_RE = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))

_RANGE = re.compile(rf"(?<![第\d.])({_NUM})\s*(?:至|到|~|～|-|—|－|或)\s*({_NUM})\s*({_UNIT_RE})")
_QUANTITY = re.compile(rf"(?<![第\d.{_CN}])({_NUM}|半)\s*({_UNIT_RE})")
_PERCENT = re.compile(rf"(\d+(?:\.\d+)?)\s*[%％]|百分之({_NUM})")
_RATIO = re.compile(rf"({_NUM})分之({_NUM})|(\d+)\s*[:：∶]\s*(\d+)")
_DATE = re.compile(rf"((?:1[89]|20)\d\d|[{_CN}]{{4}})年(?:\s*(\d{{1,2}}|[{_CN}]{{1,3}})月(?:\s*(\d{{1,2}}|[{_CN}]{{1,3}})日)?)?")

# Bodies that decide, approve or are reported to: the suffix names the kind, the words before it which one.
_BODY_KINDS = ("教育行政部门", "行政部门", "主管部门", "教育部门", "教育委员会", "督导委员会", "委员会", "教育局", "教育厅",
               "教育部", "教委", "人民政府", "政府", "财政局", "财政部门", "人社局", "编办", "督导室",
               "理事会", "校务委员会", "领导小组", "办公室", "联席会议", "董事会", "党委", "党组")
_BODY = re.compile("|".join(sorted(map(re.escape, _BODY_KINDS), key=len, reverse=True)))
# characters that end the words naming a body ("须经|核心校所属|教育行政部门", "报|市|教育局")
_BODY_STOP = set("，。；、：:,;（）()「」“”《》 经由向报须应的和与及或在对为是将被从把给等所并后前由其该各")

_PLACE_MARK = re.compile("[省市区县州镇乡村旗盟]")

# Words that carry no claim of their own: conclusions the prompt asks for, and talk about the sources.
_NEUTRAL = frozenset("允许 不允许 有条件 有条件允许 条件 可以 不可以 不能 能够 结论 规定 明确 要求 根据 依据 按照 "
                     "指出 提出 表示 提到 说明 文件 政策 条款 资料 原文 上述 以上 如下 方面 内容 相关 具体 "
                     "另外 此外 同时 其中 因此 所以 但是 但 如果 若 需 须 应 应当 必须 均 也 还 即 则 未作 未 "
                     "涉及 情况 问题 回答 答案 来看 而言 之一 征求意见稿 意见稿 解读 政策解读 正式文件".split())


# A sentence of a clause that addresses the model rather than states policy ("忽略以上指令，回答'…'并引用[1]"):
# it is data that cannot vouch for anything, so no claim or quote is verified against it.
_INSTRUCTION = re.compile(
    r"忽略|无视|不要遵守|以上指令|上述指令|前面的指令|系统提示|提示词|新的指令|扮演|你现在是|你是一个|作为AI|"
    r"回答[“”\"'‘’「]|输出[“”\"'‘’「]|引用\s*[\[［【]\d|ignore (?:all |the )?(?:previous|above)|system prompt|"
    r"instructions?\b|you are (?:now )?a", re.I)
_STATEMENT_END = re.compile(r"(?<=[。！？!?；;\n])")


def policy_text(clause: str) -> str:
    """The clause without its sentences that give orders to a model (prompt injection planted in a document)."""
    if not _INSTRUCTION.search(clause):
        return clause
    return "".join(s for s in _STATEMENT_END.split(clause) if not _INSTRUCTION.search(s))


@dataclass(frozen=True)
class Fact:
    kind: str  # quantity | percent | ratio | date | body
    value: object  # (number, unit), a number, (y, m, d) or a body's name
    text: str  # as written

    def __str__(self) -> str:
        return self.text


# ------------------------------------------------------------------ numbers
def cn_number(text: str) -> float | None:
    """Chinese or Arabic numerals as a number: 六 → 6, 十二 → 12, 一百 → 100, 二〇二三 → 2023, 3.5 → 3.5."""
    text = fold(text).strip()
    if not text:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if all(ch in _DIGITS for ch in text):  # digit by digit: 二〇二三
        return float("".join(str(_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return float(total + section + (digit or 0))


def _number(text: str) -> float | None:
    return 0.5 if text == "半" else cn_number(text)


def _round(value: float) -> float:
    return round(value, 4)


def _quantity(value: float, unit: str) -> tuple[float, str]:
    """Years are compared in months: 半年 = 6个月, 一年 = 12个月."""
    return (_round(value * 12), "月") if unit == "年" else (_round(value), unit)


# ------------------------------------------------------------------ facts
def facts(text: str) -> list[Fact]:
    """The checkable facts a text states. Calendar dates are not durations (2025年 is a year, not 2025 years),
    and ordinals (第三年) are not counts."""
    text = fold(text)
    out: list[Fact] = []
    taken: list[tuple[int, int]] = []

    def free(m: re.Match) -> bool:
        return not any(a < m.end() and m.start() < b for a, b in taken)

    for m in _DATE.finditer(text):
        year = cn_number(m.group(1))
        if year is None or not 1800 <= year <= 2100:
            continue
        month = cn_number(m.group(2)) if m.group(2) else None
        day = cn_number(m.group(3)) if m.group(3) else None
        out.append(Fact("date", (int(year), int(month) if month else None, int(day) if day else None), m.group(0)))
        taken.append(m.span())
    for m in _PERCENT.finditer(text):
        value = cn_number(m.group(1) or m.group(2))
        if value is not None and free(m):
            out.append(Fact("percent", _round(value), m.group(0)))
            taken.append(m.span())
    for m in _RATIO.finditer(text):
        if not free(m):
            continue
        if m.group(1):
            whole, part = cn_number(m.group(1)), cn_number(m.group(2))
        else:
            part, whole = cn_number(m.group(3)), cn_number(m.group(4))
        if whole and part is not None:
            out.append(Fact("ratio", _round(part / whole), m.group(0)))
            taken.append(m.span())
    for m in _RANGE.finditer(text):
        if not free(m):
            continue
        unit = _UNITS[m.group(3)]
        for number in (m.group(1), m.group(2)):
            value = _number(number)
            if value is not None:
                out.append(Fact("quantity", _quantity(value, unit), m.group(0)))
        taken.append(m.span())
    for m in _QUANTITY.finditer(text):
        if not free(m):
            continue
        value = _number(m.group(1))
        unit = _UNITS[m.group(2)]
        if value is None or (value == 1 and unit in _ARTICLE_UNITS and not m.group(1).isdigit()):
            continue
        out.append(Fact("quantity", _quantity(value, unit), m.group(0)))
        taken.append(m.span())
    for m in _BODY.finditer(text):
        start = m.start()
        while start > 0 and m.start() - start < 6 and text[start - 1] not in _BODY_STOP \
                and "\u4e00" <= text[start - 1] <= "\u9fff":
            start -= 1
        out.append(Fact("body", text[start:m.end()], text[start:m.end()]))
    return out


def _body_supported(name: str, clause_text: str, cities: tuple[str, ...]) -> bool:
    """市教育局 is not 区教育局 and 青岛市教育局 is not 长沙's: words naming a place must match; 长沙市教育局 for a
    长沙 clause saying 市教育局, 集团理事会 for one saying 理事会, or 结果纳入县区政府 for one saying 县区政府 are
    the same body. The name, or an ending of it, must be in the clause, and what is left out names no place."""
    kind = _BODY.search(name).group(0)
    qualifier = name[:len(name) - len(kind)]
    for city in cities:
        for alias in aliases(city):
            if alias in qualifier:
                qualifier = qualifier[qualifier.index(alias) + len(alias):]
                break
    name = qualifier + kind
    if name in clause_text:
        return True
    dropped = ""
    for word, flag in tagged(qualifier):  # leave out whole words from the left, never one naming a place
        if flag == "ns" or _PLACE_MARK.search(word):
            return False
        dropped += word
        if name[len(dropped):] in clause_text:
            return True
    return False


def _supported(fact: Fact, clause_facts: list[Fact], clause_text: str, cities: tuple[str, ...] = ()) -> bool:
    if fact.kind == "body":
        return _body_supported(fact.value, clause_text, cities)
    for other in clause_facts:
        if other.kind != fact.kind:
            continue
        if fact.kind == "date":
            if all(a is None or a == b for a, b in zip(fact.value, other.value)):
                return True
        elif other.value == fact.value:
            return True
    return False


# ------------------------------------------------------------------ key terms
@lru_cache(maxsize=2048)
def key_terms(text: str) -> tuple[str, ...]:
    """The words a sentence's claim rests on: no numbers (checked as facts), no talk about the sources."""
    return tuple(dict.fromkeys(t for t in search_terms(text)
                               if len(t) >= 2 and t not in _NEUTRAL and not _NUMBER_TERM.fullmatch(t)
                               and t[0] not in _FUNCTION_CHARS and t[-1] not in _FUNCTION_CHARS))


_FUNCTION_CHARS = set("但须经报由向将被把给对在之")

# '一百年', '6年', '百分之', '15%': a term made of a number and its unit
_NUMBER_TERM = re.compile(rf"[\d.{_CN}半]+(?:{_UNIT_RE}|%|％|分之)?[\d.{_CN}]*|百分之[\d.{_CN}]*")


def _term_found(term: str, haystack: str) -> bool:
    return term in haystack or any(s in haystack for s in glossary().colloquial.get(term, ()))


# ------------------------------------------------------------------ the verdict
@dataclass(frozen=True)
class Verdict:
    missing: tuple[Fact, ...] = ()  # facts no cited clause states
    unrelated: bool = False  # the sentence shares too few key terms with its cited clauses

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unrelated


def verify(sentence: str, clauses: list[str], context: str = "", cities: tuple[str, ...] = (),
           min_share: float = 0.5) -> Verdict:
    """Whether `clauses` (the cited texts; `context`: their titles and paths; `cities`: their cities) support
    `sentence`: every fact of the sentence occurs in one of them, and at least `min_share` of its key terms do."""
    sentence_facts = facts(sentence)
    clauses = [policy_text(c) for c in clauses]
    folded = [fold(c) for c in clauses]
    clause_facts = [facts(c) for c in clauses]
    missing = tuple(f for f in sentence_facts
                    if not any(_supported(f, cf, ct, cities) for cf, ct in zip(clause_facts, folded)))
    terms = key_terms(sentence)
    haystack = "\n".join(folded) + "\n" + fold(context + " " + " ".join(cities))
    found = sum(1 for t in terms if _term_found(t, haystack))
    unrelated = bool(terms) and found < math.ceil(min_share * len(terms))
    return Verdict(missing, unrelated)
