"""Policy text → suggested metadata, read where Chinese official documents state it: the title
(关于…的意见/方案/通知, or the document a 印发 notice issues), the issuer (header "××文件", the
title's prefix, the signature), the city from the issuer, the document number 〔YYYY〕N号 on a line
of its own, the signing date, and draft/interpretation status. Values given by the user win."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Mapping

from assistant.chunking.clauses import clean_line
from assistant.domain.values import parse_status, parse_validity
from assistant.errors import IngestError
from assistant.domain.places import aliases

FIELDS = ("title", "short_title", "city", "issuer", "doc_number", "date", "status", "effective_date",
          "expiry_date", "validity")
_DATE_FIELDS = ("date", "effective_date", "expiry_date")
_MAX_FIELD_CHARS = 200
_HEAD_LINES = 20
_TAIL_LINES = 12

_DOC_TYPES = "实施意见|指导意见|若干意见|意见|实施方案|工作方案|行动方案|方案|通知|办法|规定|决定|细则|规划|计划|条例|解读"
_TITLE = re.compile(rf"^[^，。；,;！？]{{4,90}}(?:{_DOC_TYPES})(?:[（(][^）)]{{1,8}}[）)])?$")
_ISSUED = re.compile(r"印发.{0,12}?《(?P<inner>[^》]{4,90})》")
_DOC_NUMBER = re.compile(
    r"^(?:文号[:：]\s*)?(?P<prefix>[\u4e00-\u9fff]{1,15})\s*[〔\[［【(（]\s*(?P<year>(?:19|20)\d{2})\s*"
    r"[〕\]］】)）]\s*(?P<n>\d{1,4})\s*号$")
_ORG = r"(?:局|厅|委|委员会|政府|办公室|办公厅|中心|部|处)"
_HEADER = re.compile(rf"^(?P<org>[\u4e00-\u9fff、]{{3,60}}{_ORG})文件$")
_ORG_LINE = re.compile(rf"^[\u4e00-\u9fff（）()]{{3,40}}{_ORG}(?:[、\s]+[\u4e00-\u9fff（）()]{{3,40}}{_ORG})*$")
_PREFIX_ORG = re.compile(rf"^(?P<org>[\u4e00-\u9fff、]{{3,60}}?{_ORG})(?:关于|印发)")
_CN_YEAR_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
                   "六": 6, "七": 7, "八": 8, "九": 9}
_DATE = re.compile(
    r"^[（(]?\s*(?P<y>\d{4}|[〇零○ＯO一二三四五六七八九]{4})\s*年\s*(?P<m>\d{1,2}|[十一二三四五六七八九]{1,2})\s*月"
    r"\s*(?P<d>\d{1,2}|[十一二三四五六七八九廿卅]{1,3})\s*日\s*[）)]?$")
_ISO_DATE = re.compile(r"^(?:(?:发布|印发|成文)(?:日期|时间)[:：]\s*)?(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})$")
_JURISDICTION = re.compile(
    r"^(?P<province>[\u4e00-\u9fff]{2,7}?(?:省|自治区))?(?P<city>[\u4e00-\u9fff]{2,7}?(?:市|自治州|州|盟))?"
    r"(?P<district>[\u4e00-\u9fff]{1,6}?(?:区|县|旗))?")
_GENERIC_PLACE = re.compile(r"^(?:本|全|各|我|该|市|区|县|省)")


@dataclass(frozen=True)
class DocMeta:
    title: str | None = None
    short_title: str | None = None
    city: str | None = None
    issuer: str | None = None
    doc_number: str | None = None
    date: str | None = None
    status: str = "official"
    effective_date: str | None = None  # 施行: the first day the version applies
    expiry_date: str | None = None  # the first day it no longer applies (失效/废止), when known
    validity: str | None = None  # trial (试行) | interim (暂行) | repealed (废止); None: nothing said

    def merged(self, overrides: Mapping[str, str | None] | None) -> "DocMeta":
        """These values with the user's overrides applied (validated, see `clean_overrides`)."""
        given = clean_overrides(overrides)
        merged = replace(self, **given)
        derived = self.short_title is None or self.short_title == short_title(self.title, self.city, self.issuer)
        if derived and "short_title" not in given and {"title", "city"} & set(given):
            # a short title derived from the old title or city follows them; a chosen one stays
            merged = replace(merged, short_title=short_title(merged.title, merged.city, merged.issuer))
        return merged

    def missing(self) -> tuple[str, ...]:
        return tuple(k for k in ("title", "city") if not getattr(self, k))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, entry: Mapping) -> "DocMeta":
        """The metadata a manifest entry stores (entries written before a field existed lack it)."""
        values = {f.name: entry.get(f.name) for f in fields(cls) if entry.get(f.name) is not None}
        return cls(**values)


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
    lines = [clean_line(ln) for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    head, tail = lines[:_HEAD_LINES], lines[-_TAIL_LINES:]
    title = find_title(head)
    doc_number = find_doc_number(head + tail)
    issuer = find_issuer(head, tail, title)
    city = None
    for source in (issuer, title):
        city = city or (jurisdiction(source, known_cities) if source else None)
    date = find_date(tail[::-1] + head)
    if date is None and doc_number:
        date = re.search(r"〔(\d{4})〕", doc_number).group(1)
    status = "official"
    if title and "解读" in title:
        status = "interpretation"
    elif any("征求意见稿" in ln or "（草案）" in ln for ln in ([title] if title else []) + head[:6]):
        status = "draft"
    return DocMeta(title, short_title(title, city, issuer) if title else None, city, issuer, doc_number, date,
                   status)


def find_title(head: list[str]) -> str | None:
    candidates = []
    for i, line in enumerate(head):
        following = head[i + 1] if i + 1 < len(head) else ""
        if re.fullmatch(r"[（(](?:征求意见稿|试行|草案|送审稿)[）)]", following):
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
        if _TITLE.match(line) and not line.startswith(("根据", "按照", "为")):
            return line
    return None


def find_doc_number(lines: list[str]) -> str | None:
    for line in lines:
        m = _DOC_NUMBER.match(line.replace(" ", ""))
        if m:
            return f"{m.group('prefix')}〔{m.group('year')}〕{m.group('n')}号"
    return None


def find_issuer(head: list[str], tail: list[str], title: str | None) -> str | None:
    for line in head[:8]:
        m = _HEADER.match(line)
        if m:
            return m.group("org")
    for line in head[:8] + ([title] if title else []):
        m = _PREFIX_ORG.match(line)
        if m:
            return m.group("org")
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


def _cn_int(text: str) -> int:
    if text.isdigit():
        return int(text)
    text = text.replace("廿", "二十").replace("卅", "三十")
    digits = {k: v for k, v in _CN_YEAR_DIGITS.items()}
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (digits.get(tens, 1) if tens else 1) * 10 + (digits.get(ones, 0) if ones else 0)
    return digits.get(text, 0)


def find_date(lines: list[str]) -> str | None:
    for line in lines:
        line = line.replace(" ", "")
        m = _DATE.match(line) or _ISO_DATE.match(line)
        if not m:
            continue
        y = m.group("y")
        year = int(y) if y.isdigit() else int("".join(str(_CN_YEAR_DIGITS[c]) for c in y))
        month, day = _cn_int(m.group("m")), _cn_int(m.group("d"))
        if 1900 < year < 2100 and 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def jurisdiction(name: str, known_cities: tuple[str, ...] | list[str] = ()) -> str | None:
    """'长沙市教育局' → '长沙市'; '郑州市中原区教育局' → '郑州市中原区'; '中原区…' → a known
    '郑州市中原区'; '江西省教育厅' → '江西省'."""
    name = re.sub(r"^[（(].*?[）)]", "", name.strip())
    for city in sorted(known_cities, key=len, reverse=True):
        if name.startswith(city):
            return city
    m = _JURISDICTION.match(name)
    if not m or not any(m.groups()):
        return None
    province, city, district = m.group("province"), m.group("city"), m.group("district")
    if district and not city:
        for known in known_cities:
            if district in aliases(known) and known.endswith(district):
                return known
    place = (city or "") + (district or "") if city else district if district else province
    if not place or _GENERIC_PLACE.match(place) or len(place) < 2:
        return None
    return place


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
    if city:
        place = city[:-1] if city.endswith("市") and len(city) > 2 else city
        m = re.match(r"^.+?市(.+[区县])$", city)
        if m:
            place = m.group(1)
    if place and not core.startswith(place):
        core = place + core
    return core
