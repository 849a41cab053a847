"""Policy text → suggested metadata, read where Chinese official documents and regulations state it: the
title (a Markdown heading, 关于…的意见/方案/通知, the document a 印发 notice issues, …条例/办法), the issuer
(header "××文件", the title's prefix, the body that adopted or published a regulation, the signature), the
document number 〔YYYY〕N号, the place it governs (see `jurisdiction.py`), its dates (signed, adopted,
in force, with the history of amendments: see `dates.py`) and its status. Markdown and HTML markup is read
as the text it shows. Values given by the user win."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Mapping

from assistant.chunking.clauses import clean_line
from assistant.corpus import dates
from assistant.corpus.dates import Event, find_date
from assistant.corpus.jurisdiction import (Evidence, decide, places_at_start, places_in_body,
                                           places_of_doc_number)
from assistant.domain.divisions import Place, place_of
from assistant.domain.markup import plain
from assistant.domain.values import parse_status, parse_validity
from assistant.errors import IngestError

# what a user may set (CLI --city …, web form, API overrides); level and place_code follow the city
FIELDS = ("title", "short_title", "city", "issuer", "doc_number", "date", "status", "adopted_date",
          "effective_date", "expiry_date", "validity")
_DATE_FIELDS = ("date", "adopted_date", "effective_date", "expiry_date")
_MAX_FIELD_CHARS = 200
_HEAD_LINES = 20
_TAIL_LINES = 12
_INFO_END = "<!-- INFO END -->"  # how the LawRefBook Markdown files end the block of dates under a title

_DOC_TYPES = ("实施意见|指导意见|若干意见|意见|实施方案|工作方案|行动方案|方案|通知|办法|规定|决定|决议|细则|规划|计划|"
              "条例|解读|规则|章程|纲要|准则|守则|标准")
_TITLE = re.compile(rf"^[^，。；,;！？]{{4,90}}(?:{_DOC_TYPES})(?:[（(][^）)]{{1,8}}[）)])?$")
_NATIONAL_LAW = re.compile(r"^中华人民共和国[^，。；,;！？]{1,40}法(?:[（(][^）)]{1,8}[）)])?$")
_ISSUED = re.compile(r"印发.{0,12}?《(?P<inner>[^》]{4,90})》")
_DOC_NUMBER = re.compile(
    r"^(?:文号[:：]\s*)?(?P<prefix>[\u4e00-\u9fff]{1,15})\s*[〔\[［【(（]\s*(?P<year>(?:19|20)\d{2})\s*"
    r"[〕\]］】)）]\s*(?P<n>\d{1,4})\s*号$")
_ORG = r"(?:局|厅|委|委员会|政府|办公室|办公厅|中心|部|处)"
_HEADER = re.compile(rf"^(?P<org>[\u4e00-\u9fff、]{{3,60}}{_ORG})文件$")
_ORG_LINE = re.compile(rf"^[\u4e00-\u9fff（）()]{{3,40}}{_ORG}(?:[、\s]+[\u4e00-\u9fff（）()]{{3,40}}{_ORG})*$")
_PREFIX_ORG = re.compile(rf"^(?P<org>[\u4e00-\u9fff、]{{3,60}}?{_ORG})(?:关于|印发)")
_DRAFT_LINE = re.compile(r"[（(](?:征求意见稿|试行|草案|送审稿)[）)]")
_REPEALED_MARK = re.compile(r"[（(【\[](?:已)?(?:废止|失效)[）)】\]]")
_HEADING = re.compile(r"^\s{0,3}#\s")


@dataclass(frozen=True)
class DocMeta:
    title: str | None = None
    short_title: str | None = None
    city: str | None = None  # the place the document governs, by its name in the division table (郑州市中原区)
    issuer: str | None = None
    doc_number: str | None = None
    date: str | None = None  # the signing date, else the date the version in force was adopted
    status: str = "official"
    level: str | None = None  # national | province | city | district (None: a place the table does not list)
    place_code: str | None = None  # the place's division code (adcode); 100000 for 全国
    adopted_date: str | None = None  # the latest 通过/批准/修正/修订 (or the date it was issued)
    effective_date: str | None = None  # 施行: from the lines under the title or the text's own article
    validity: str | None = None  # trial (试行) | interim (暂行) | repealed (废止); None: nothing said
    expiry_date: str | None = None  # the first day it no longer applies (失效/废止), when known (user-given)
    history: tuple[str, ...] = ()  # "2016-05-27 修订", oldest first

    def merged(self, overrides: Mapping[str, str | None] | None) -> "DocMeta":
        """These values with the user's overrides applied (validated, see `clean_overrides`)."""
        given = clean_overrides(overrides)
        merged = replace(self, **given)
        if "city" in given:
            merged = with_place(merged)
        derived = self.short_title is None or self.short_title == short_title(self.title, self.city, self.issuer)
        if derived and "short_title" not in given and {"title", "city"} & set(given):
            # a short title derived from the old title or city follows them; a chosen one stays
            merged = replace(merged, short_title=short_title(merged.title, merged.city, merged.issuer))
        return merged

    def missing(self) -> tuple[str, ...]:
        return tuple(k for k in ("title", "city") if not getattr(self, k))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["history"] = list(self.history)
        return d

    @classmethod
    def of(cls, entry: Mapping) -> "DocMeta":
        """The metadata a manifest entry stores (entries written before a field existed lack it)."""
        values = {f.name: entry.get(f.name) for f in fields(cls) if entry.get(f.name) is not None}
        values["history"] = tuple(values.get("history") or ())
        meta = cls(**values)
        return meta if meta.place_code or not meta.city else with_place(meta)


def with_place(meta: DocMeta) -> DocMeta:
    """The level and division code of the metadata's city (none when the table does not know the name)."""
    place = place_of(meta.city)
    return replace(meta, level=place.level if place else None, place_code=place.code if place else None)


def checked_status(value: str) -> str:
    status = parse_status(value)
    if status is None:
        raise IngestError(f"状态无效：{value}（可用：official/正式文件、draft/征求意见稿、interpretation/政策解读）")
    return status


def checked_date(key: str, value: str) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD (also with / or . or 年月日), as YYYY[-MM[-DD]]."""
    m = re.fullmatch(r"(\d{4})(?:[-./年](\d{1,2})(?:[-./月](\d{1,2})日?)?月?)?年?", value)
    parts = [int(p) for p in m.groups() if p] if m else []
    if not parts or not 1900 < parts[0] < 2100 or (len(parts) > 1 and not 1 <= parts[1] <= 12) or (
            len(parts) > 2 and not 1 <= parts[2] <= 31):
        raise IngestError(f"日期无效：{key}={value}（格式：2021-12-30、2021-12 或 2021）")
    return "-".join([f"{parts[0]:04d}", *(f"{p:02d}" for p in parts[1:])])


def checked_validity(value: str) -> str:
    code = parse_validity(value)
    if code is None:
        raise IngestError(f"效力状态无效：{value}（可用：trial/试行、interim/暂行、repealed/废止）")
    return code


def clean_overrides(overrides: Mapping[str, str | None] | None) -> dict[str, str | None]:
    """Validated user-given values: known fields only, one line each, status by code or Chinese name."""
    out: dict[str, str | None] = {}
    for key, value in (overrides or {}).items():
        if key not in FIELDS:
            raise IngestError(f"未知的元数据字段：{key}（可用：{'、'.join(FIELDS)}）")
        if value is None:
            continue
        value = re.sub(r"\s+", " ", str(value)).strip()
        if not value:
            continue
        if len(value) > _MAX_FIELD_CHARS:
            raise IngestError(f"元数据 {key} 过长（{len(value)} 字）")
        if key == "status":
            value = checked_status(value)
        elif key == "validity":
            value = checked_validity(value)
        elif key in _DATE_FIELDS and key != "date":  # `date` keeps accepting what it always did
            value = checked_date(key, value)
        out[key] = value
    return out


# ---------------------------------------------------------------- extraction

def suggest(text: str, known_cities: tuple[str, ...] | list[str] = ()) -> DocMeta:
    raw = text.splitlines()
    lines = [ln for ln in (clean_line(plain(r)) for r in raw) if ln]
    head, tail = lines[:_HEAD_LINES], lines[-_TAIL_LINES:]
    spaced = [ln for ln in (title_spacing(plain(r)) for r in raw[:_HEAD_LINES * 3]) if ln][:_HEAD_LINES]
    title = heading_title(raw) or find_title(spaced)
    doc_number = find_doc_number(head + tail)
    found = dates.events(*_info_lines(raw, head))
    issuer = find_issuer(head, tail, title, found)
    place = find_place(title, issuer, doc_number, lines, known_cities)
    city = place.name if isinstance(place, Place) else place
    signed = find_date(tail[::-1] + head)
    adopted = dates.adopted_date(found) or dates.published_date(found) or signed
    date = signed or adopted or _year_of(doc_number)
    return DocMeta(title, short_title(title, city, issuer) if title else None, city, issuer, doc_number, date,
                   find_status(title, head), adopted_date=adopted,
                   effective_date=dates.effective_date(found, lines, dates.published_date(found) or signed),
                   validity=validity(title, found), history=tuple(str(e) for e in sorted(found, key=lambda e: e.date)),
                   **({"level": place.level, "place_code": place.code} if isinstance(place, Place) else {}))


def _year_of(doc_number: str | None) -> str | None:
    """长教通〔2020〕97号 → '2020': all a document number says of its date."""
    return re.search(r"〔(\d{4})〕", doc_number).group(1) if doc_number else None


def find_status(title: str | None, head: list[str]) -> str:
    if title and "解读" in title:
        return "interpretation"
    if any("征求意见稿" in ln or "（草案）" in ln for ln in ([title] if title else []) + head[:6]):
        return "draft"
    return "official"


def heading_title(raw: list[str]) -> str | None:
    """A Markdown document's first level-one heading, markup removed ('# **山东省**学校安全条例' → …), with a
    '（征求意见稿）' on the line after it; the document a 印发 notice issues when the heading is that notice."""
    for i, line in enumerate(raw[:_HEAD_LINES * 2]):
        if not _HEADING.match(line):
            continue
        title = title_spacing(plain(line))
        following = next((plain(r).strip() for r in raw[i + 1:i + 4] if plain(r).strip()), "")
        if _DRAFT_LINE.fullmatch(following):
            title += following.replace("(", "（").replace(")", "）")
        issued = _ISSUED.search(title)
        if issued and title.endswith("通知") and _TITLE.match(issued.group("inner")):
            return issued.group("inner")
        return title if len(title) >= 4 else None
    return None


def title_spacing(line: str) -> str:
    """A line as `clean_line` reads it, except that a wide gap between two phrases (an ideographic space, or
    two spaces or more) stays one space: official titles separate parallel phrases so ("…疫情  坚决打赢…")."""
    parts = [p for p in re.split(r"[\u3000]+\s*|[ \t\u00a0]{2,}[\s\u3000]*", line.strip()) if p]
    if len(parts) < 2 or min(len(p) for p in parts) < 2:  # "关  于  推  进": letter-spaced typesetting
        return clean_line(line)
    return " ".join(clean_line(p) for p in parts)


def find_title(head: list[str]) -> str | None:
    candidates = []
    for i, line in enumerate(head):
        following = head[i + 1] if i + 1 < len(head) else ""
        if _DRAFT_LINE.fullmatch(following):
            line += following.replace("(", "（").replace(")", "）")
        candidates.append(line)
        wrapped = (following and len(line) < 40 and not re.search(r"[，。；：:,;〔]", line + following)
                   and not _TITLE.match(line) and not _TITLE.match(following)
                   and not _HEADER.match(line) and not _ORG_LINE.match(line))
        if wrapped:
            candidates.append(line + following)  # a title wrapped over two lines
    for line in candidates:
        issued = _ISSUED.search(line)
        if issued and line.endswith("通知") and _TITLE.match(issued.group("inner")):
            return issued.group("inner")
    for line in candidates:
        if (_TITLE.match(line) or _NATIONAL_LAW.match(line)) and not line.startswith(("根据", "按照", "为")):
            return line
    return None


def find_doc_number(lines: list[str]) -> str | None:
    for line in lines:
        m = _DOC_NUMBER.match(line.replace(" ", ""))
        if m:
            return f"{m.group('prefix')}〔{m.group('year')}〕{m.group('n')}号"
    return None


def _info_lines(raw: list[str], head: list[str]) -> tuple[list[str], bool]:
    """The lines that may list a text's adoption, and whether they are a block of nothing else: those between
    the title and a LawRefBook '<!-- INFO END -->' marker, else the head of the text (a regulation as
    published: '（2010年7月30日…会议通过）' under its title)."""
    for i, line in enumerate(raw[:_HEAD_LINES * 3]):
        if line.strip() == _INFO_END:
            block = [ln for ln in (clean_line(plain(r)) for r in raw[:i] if not _HEADING.match(r)) if ln]
            return block, True
    return head, False


def find_issuer(head: list[str], tail: list[str], title: str | None, found: tuple[Event, ...] = ()) -> str | None:
    for line in head[:8]:
        m = _HEADER.match(line)
        if m:
            return m.group("org")
    for line in head[:8] + ([title] if title else []):
        m = _PREFIX_ORG.match(line)
        if m:
            return m.group("org")
    # a regulation: the body that passed its version in force (a city's congress, not the province that
    # approved it; 济南市 for a 莱芜市 regulation 济南市 amended), else the one that published it
    for kinds in (("通过",), ("公布", "发布", "印发")):
        organs = [e.organ for e in found if e.organ and e.kind in kinds]
        if organs:
            return organs[-1]
    # the signature: organisation line(s) right above the date
    for i in range(len(tail) - 1, 0, -1):
        if find_date([tail[i]]):
            orgs = []
            j = i - 1
            while j >= 0 and _ORG_LINE.match(tail[j]):
                orgs.insert(0, tail[j])
                j -= 1
            if orgs:
                return "、".join(re.split(r"[、\s]+", "、".join(orgs)))
    for line in head[:5]:
        if _ORG_LINE.match(line):
            return line
    return None


def find_place(title: str | None, issuer: str | None, doc_number: str | None, lines: list[str],
               known_cities: tuple[str, ...] | list[str] = ()) -> Place | str | None:
    """The place the document governs (a `Place`), a place the corpus already has that the division table
    does not list (its name), or None."""
    first_issuer = re.split(r"[、\s]+", issuer)[0] if issuer else None
    evidence = Evidence(title=places_at_start(title), issuer=places_at_start(first_issuer),
                        doc_number=places_of_doc_number(doc_number))
    if len(evidence.title) != 1 and len(evidence.issuer) != 1:
        evidence = replace(evidence, body=places_in_body(lines))  # only when title and issuer do not say
    known = tuple(p for p in (place_of(c) for c in known_cities) if p)
    return decide(evidence, known) or _unlisted_known(title, first_issuer, known_cities)


def _unlisted_known(title: str | None, issuer: str | None, known_cities) -> str | None:
    """A place the user named for earlier documents that the table does not list ('雄安新区')."""
    for city in sorted((c for c in known_cities if place_of(c) is None), key=len, reverse=True):
        if any(s and s.startswith(city) for s in (title, issuer)):
            return city
    return None


def validity(title: str | None, found: tuple[Event, ...]) -> str | None:
    """repealed when the lines under the title record its repeal or the title is marked so; else trial or
    interim as the title says (…（试行）, 暂行办法)."""
    if any(e.kind == "废止" for e in found) or (title and _REPEALED_MARK.search(title)):
        return "repealed"
    if title and "试行" in title:
        return "trial"
    if title and "暂行" in title:
        return "interim"
    return None


def jurisdiction(name: str, known_cities: tuple[str, ...] | list[str] = ()) -> str | None:
    """The place an issuer or a title names at its start, by its name in the division table:
    '长沙市教育局' → '长沙市'; '郑州市中原区教育局' and '中原区教育局' → '郑州市中原区'; '江西省教育厅' → '江西省';
    '国务院办公厅' → '全国'; '本市教育局' → None."""
    known = tuple(p for p in (place_of(c) for c in known_cities) if p)
    place = decide(Evidence(title=places_at_start(name)), known)
    return place.name if place else _unlisted_known(name, None, known_cities)


def short_title(title: str | None, city: str | None, issuer: str | None) -> str | None:
    """'株洲市教育局关于推进义务教育集团化办学的实施方案' → '株洲推进义务教育集团化办学实施方案'."""
    if not title:
        return None
    inner = re.search(r"《([^》]+)》", title)
    core = inner.group(1) if inner and title.endswith("解读") else title
    if issuer and core.startswith(issuer):
        core = core[len(issuer):]
    if "关于" in core[:30]:
        core = core[core.index("关于") + 2:]
    core = re.sub(rf"的(?=(?:{_DOC_TYPES})(?:[（(][^）)]*[）)])?$)", "", core)
    core = core.replace("进一步", "")
    if title.endswith("解读") and inner:
        core += "解读"
    place = ""
    if city and city != "全国":  # a national text needs no place in front of it
        place = city[:-1] if city.endswith("市") and len(city) > 2 else city
        m = re.match(r"^.+?市(.+[区县])$", city)
        if m:
            place = m.group(1)
    if place and not core.startswith(place):
        core = place + core
    return core
