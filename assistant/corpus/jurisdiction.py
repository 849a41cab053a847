"""Which place a document governs, from what the text says, in order of reliability: the place at the start
of its title (山东省学校安全条例, 青岛市实施《…》办法, 中原区…方案), its issuer (…人民代表大会常务委员会, …人民政府,
…教育局/教育厅/教育委员会/教体局, the first of joint issuers), the prefix of its document number (鲁教基字 →
山东省) and, when none of them says, its body ("本条例适用于杭州市行政区域内…"). Every name is looked up in the
division table; a name it does not know, or shares between places nothing else tells apart, gives no place:
the document is then listed for the user to name it, never guessed."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from assistant.domain.divisions import NATIONAL, Place, chain_at_start, contains, divisions, place_of

# national organs: issuers whose documents bind the whole country
_NATIONAL_ORGAN = re.compile(
    r"^(?:中华人民共和国|中共中央|中央|国务院|全国人民代表大会|全国人大|最高人民法院|最高人民检察院|国家(?!级)"
    r"|[\u4e00-\u9fff]{1,10}部(?:办公厅)?$)")
_NATIONAL_TITLE = re.compile(r"^(?:中华人民共和国|全国人民代表大会|全国人大常委会|国务院)")
_LEADING_NOISE = re.compile(r"^(?:[（(][^）)]{0,12}[）)]|关于)?")
_FREE_TRADE = re.compile(r"^中国\s*[（(](?P<place>[\u4e00-\u9fff]{2,8})[）)]")
# "适用于本市行政区域" names no place; "适用于杭州市行政区域" does
_SCOPE = re.compile(r"(?:适用于|在)(?P<name>[\u4e00-\u9fff]{2,16}?)(?:行政区域|辖区)")
_ORG_MENTION = re.compile(
    r"(?P<name>[\u4e00-\u9fff]{2,16}?)(?:人民代表大会|人民政府|教育局|教育厅|教育委员会|教体局|教育和体育局|"
    r"教育体育局|委员会|人大常委会)")
# one-character names of provinces, as document numbers abbreviate them (鲁教基字〔2020〕3号); a standard list
_PROVINCE_ABBREVIATIONS = {
    "京": "北京市", "津": "天津市", "沪": "上海市", "渝": "重庆市", "冀": "河北省", "晋": "山西省", "辽": "辽宁省",
    "吉": "吉林省", "黑": "黑龙江省", "苏": "江苏省", "浙": "浙江省", "皖": "安徽省", "闽": "福建省", "赣": "江西省",
    "鲁": "山东省", "豫": "河南省", "鄂": "湖北省", "湘": "湖南省", "粤": "广东省", "琼": "海南省", "川": "四川省",
    "蜀": "四川省", "黔": "贵州省", "贵": "贵州省", "滇": "云南省", "云": "云南省", "陕": "陕西省", "秦": "陕西省",
    "甘": "甘肃省", "陇": "甘肃省", "青": "青海省", "蒙": "内蒙古自治区", "桂": "广西壮族自治区", "藏": "西藏自治区",
    "宁": "宁夏回族自治区", "新": "新疆维吾尔自治区", "港": "香港特别行政区", "澳": "澳门特别行政区",
}


@dataclass(frozen=True)
class Evidence:
    """What a text says about its place, each piece as found (candidates when a name is shared)."""

    title: tuple[Place, ...] = ()
    issuer: tuple[Place, ...] = ()
    doc_number: tuple[Place, ...] = ()
    body: tuple[Place, ...] = ()


def places_at_start(text: str | None) -> tuple[Place, ...]:
    """The place(s) named at the start of a title or an organisation's name; 全国 for national organs."""
    if not text:
        return ()
    text = _LEADING_NOISE.sub("", text.strip(), count=1)
    free_trade = _FREE_TRADE.match(text)  # 中国（上海）自由贸易试验区条例
    if free_trade:
        text = free_trade.group("place") + text[free_trade.end():]
    chain = chain_at_start(text)
    if chain:
        return chain.places
    if _NATIONAL_TITLE.match(text) or _NATIONAL_ORGAN.match(text):
        return (NATIONAL,)
    return ()


def places_of_doc_number(doc_number: str | None) -> tuple[Place, ...]:
    """鲁教基字〔2020〕3号 → 山东省; 郑教〔2021〕1号 → 郑州市 (the only city whose name starts with 郑). A first
    character several places could stand for (长: 长沙, 长春, 长治) gives every candidate."""
    if not doc_number:
        return ()
    first = doc_number[0]
    found: dict[str, Place] = {}
    if first in _PROVINCE_ABBREVIATIONS:
        province = place_of(_PROVINCE_ABBREVIATIONS[first])
        found[province.code] = province
    for place in divisions().by_code.values():
        if place.level == "city" and place.official.startswith(first):
            found[place.code] = place
    return tuple(found.values())


def places_in_body(lines: list[str]) -> tuple[Place, ...]:
    """The place a body says it applies to ("适用于杭州市行政区域"), else the one whose organisations it names
    clearly most often (at least twice, and twice as often as any other)."""
    text = "\n".join(lines)
    for m in _SCOPE.finditer(text):
        chain = chain_at_start(m.group("name"))
        if chain and chain.end == len(m.group("name")):
            return chain.places
    counts: Counter[str] = Counter()
    for m in _ORG_MENTION.finditer(text):
        name = _trim_to_place(m.group("name"))
        if name:
            counts[name] += 1
    ranked = counts.most_common(2)
    if ranked and ranked[0][1] >= 2 and (len(ranked) == 1 or ranked[0][1] >= 2 * ranked[1][1]):
        return chain_at_start(ranked[0][0]).places
    return ()


def _trim_to_place(name: str) -> str | None:
    """The longest tail of `name` that is a whole place name ("为贯彻青岛市" → "青岛市")."""
    for start in range(len(name) - 1):
        chain = chain_at_start(name[start:])
        if chain and chain.end == len(name) - start:
            return name[start:]
    return None


def decide(evidence: Evidence, known: tuple[Place, ...] = ()) -> Place | None:
    """One place from the evidence, or None. The title's place wins when it lies within the issuer's (a
    province's regulation for 义乌市 governs 义乌市); an unrelated issuer's place wins over the title's. Shared
    names are told apart by the other evidence and then by the places the corpus already has (`known`)."""
    others = evidence.issuer + evidence.doc_number + evidence.body + known
    title = _resolve(evidence.title, others)
    issuer = _resolve(evidence.issuer, evidence.title + evidence.doc_number + evidence.body + known)
    if title and issuer:
        return title if contains(issuer, title) or contains(title, issuer) else issuer
    if title or issuer:
        return title or issuer
    for candidates in (evidence.doc_number, evidence.body):
        found = _resolve(candidates, others)
        if found:
            return found
    return None


def _resolve(candidates: tuple[Place, ...], context: tuple[Place, ...]) -> Place | None:
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    related = [c for c in candidates if any(contains(c, o) or contains(o, c) for o in context if o is not c)]
    return related[0] if len(related) == 1 else None
