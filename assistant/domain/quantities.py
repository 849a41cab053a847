"""Counted quantities in Chinese text: "六年", "8年", "10所左右", "半年", "三个月", "2021年9月至2029年8月".

Charter limits are numbers with units; drafts write them with Chinese or Arabic numerals alike.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.domain.segment import cn_to_int, fold

_CN_NUMERAL = "零〇一二两三四五六七八九十"


@dataclass(frozen=True)
class Quantity:
    value: float  # in the caller's base unit (e.g. months when units = {"月": 1, "年": 12})
    text: str  # as written in the draft, e.g. "八年"
    start: int  # offset in the text it was found in


def _unit_pattern(units: dict[str, float]) -> str:
    return "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))


def extract(text: str, units: dict[str, float]) -> list[Quantity]:
    """Every "<number>[个]<unit>" in `text`, converted by the unit's factor; ordinals (第三年) and
    calendar dates (2021年, 9月 in 2021年9月) are not quantities."""
    if not units:
        return []
    folded = fold(text)  # full-width digits → ASCII
    if len(folded) != len(text):  # a rare compatibility character expanded: report folded text
        text = folded
    unit_re = _unit_pattern(units)
    found: list[Quantity] = []
    pattern = re.compile(
        rf"((?<![\d.第年])\d{{1,3}}(?:\.\d+)?|(?<![第{_CN_NUMERAL}])[{_CN_NUMERAL}]{{1,3}}|半)(个)?({unit_re})")
    for m in pattern.finditer(folded):
        number, unit = m.group(1), m.group(3)
        if number == "半":
            value = 0.5
        elif number[0].isdigit():
            value = float(number)
        else:
            parsed = cn_to_int(number)
            if parsed is None:
                continue
            value = float(parsed)
        found.append(Quantity(value * units[unit], text[m.start():m.end()], m.start()))
    if "年" in units:
        spans = _date_spans(text, folded, units["年"])
        # "9月" inside "2021年9月至2029年8月" is a calendar month, not a quantity
        found = [q for q in found if not any(s.start <= q.start < s.start + len(s.text) for s in spans)]
        found.extend(spans)
    return sorted(found, key=lambda q: q.start)


_DATE_SPAN = re.compile(
    r"(\d{4})年(\d{1,2})月(?:\d{1,2}日)?(?:起)?\s*(?:至|到|—|－|-|~|～)\s*(\d{4})年(\d{1,2})月")


def _date_spans(text: str, folded: str, year_factor: float) -> list[Quantity]:
    """"2021年9月至2029年8月" lasts 8 years (months counted inclusively)."""
    spans = []
    for m in _DATE_SPAN.finditer(folded):
        y1, m1, y2, m2 = (int(g) for g in m.groups())
        months = (y2 - y1) * 12 + (m2 - m1) + 1
        if months > 0:
            spans.append(Quantity(round(months / 12, 1) * year_factor, text[m.start():m.end()], m.start()))
    return spans


# ---------------------------------------------------------------- figures a question asks for
# What a "how many / how long / how far" question asks to be counted in, by family: a figure in any unit of
# the family answers it (十日 answers 多少天, 六年 answers 多久).
_ASKED = (
    (re.compile(r"多少天|几天|多少日|多少个工作日|几个工作日"), ("天", "日", "工作日")),
    (re.compile(r"多少分钟|几分钟"), ("分钟",)),
    (re.compile(r"多少小时|几个小时|几小时"), ("小时",)),
    (re.compile(r"几节|多少节|多少课时|几课时|多少学时"), ("节", "课时", "学时")),
    (re.compile(r"多远|多少米|多少公里"), ("米", "公里", "千米")),
    (re.compile(r"多少钱|多少元|多少万|发多少|补多少|给多少"), ("元",)),
    (re.compile(r"多少所|几所"), ("所",)),
    (re.compile(r"多少次|几次"), ("次",)),
    (re.compile(r"多少人|几个人|几名|多少名"), ("人", "名")),
    (re.compile(r"多久|多长时间|几年(?!级)|多少年|几个月|多少个月|几周|多少周"),
     ("年", "个月", "月", "日", "天", "周", "学期", "小时")),
    (re.compile(r"多大面积|多少平方|人均面积"), ("平方米",)),
    (re.compile(r"百分之几|多少比例|比例是多少|占比多少|多少%"), ("%", "％", "百分之")),
)
_NUMBER = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万半]+)"


_QUESTION_CLAUSE = re.compile(r"[^，,。；;！!？?]+[？?]")
_OTHER_ASK = re.compile(r"怎么|什么|如何|哪|谁|能不能|能否|可不可以|是否|有没有|吗")


@lru_cache(maxsize=256)  # read by the refusal gate and again by the answer's notice, per question
def asked_units(question: str) -> tuple[str, ...]:
    """The units a question asks a figure in ("每周必须开几节体育课？" → 节, 课时, 学时); () when it asks for none.
    Only the clauses that ask are read (those ending in ？, else the last): in "连着几天不来上学，学校该怎么做？"
    几天 is "a few days", and so is a 几 in a clause that asks something else (怎么, 是否…)."""
    folded = fold(question).strip()
    clauses = _QUESTION_CLAUSE.findall(folded) or re.split(r"[，,。；;！!]", folded.rstrip("。！!"))[-1:]
    units: list[str] = []
    for clause in clauses:
        for pattern, family in _ASKED:
            if any(not (m.group().startswith("几") and _OTHER_ASK.search(clause)) for m in pattern.finditer(clause)):
                units.extend(family)
    return tuple(dict.fromkeys(units))


_DURATION = ("年", "个月", "月", "周", "日", "天", "学期", "小时", "分钟")


def states_figure(text: str, units: tuple[str, ...]) -> bool:
    """Whether `text` gives a number in one of `units` ("不少于九十天", "5%", "百分之十"); a length of time in any
    unit answers a question asking one in another ("提前几天报备" is answered by "提前半年")."""
    if any(u in _DURATION for u in units):
        units = tuple(dict.fromkeys((*units, *_DURATION)))
    folded = fold(text)
    plain = [u for u in units if u != "百分之"]
    if plain and re.search(rf"{_NUMBER}\s*个?\s*(?:{_unit_pattern(dict.fromkeys(plain, 1))})", folded):
        return True
    return "百分之" in units and re.search(rf"百分之{_NUMBER}", folded) is not None
