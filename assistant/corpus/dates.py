"""Dates a policy text states about itself: the events of its adoption (通过, 批准, 修正, 修订, 公布, 印发, 施行,
废止), as the lines under a regulation's title list them ("2016年5月27日 浙江省…会议修订", "（2010年7月30日…
通过）"), and the date it takes effect, from those lines or from its last article ("本条例自2021年1月1日起施行")."""
from __future__ import annotations

import re
from dataclasses import dataclass

_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_Y = r"(?P<y>\d{4}|[〇零○ＯO一二三四五六七八九]{4})"
_M = r"(?P<m>\d{1,2}|[十一二三四五六七八九]{1,3})"
_D = r"(?P<d>\d{1,2}|[十一二三四五六七八九廿卅]{1,3})"
DATE_IN_TEXT = re.compile(rf"{_Y}\s*年\s*{_M}\s*月\s*{_D}\s*日")
_DATE_LINE = re.compile(rf"^[（(]?\s*{_Y}\s*年\s*{_M}\s*月\s*{_D}\s*日\s*[）)]?$")
_ISO_DATE = re.compile(r"^(?:(?:发布|印发|成文)(?:日期|时间)[:：]\s*)?(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})$")

# What happened on a date, by the last of these words after it (修订 … 修正 on one line: two events).
KINDS = ("通过", "批准", "修正", "修订", "公布", "发布", "印发", "施行", "废止")
ADOPTING = ("通过", "批准", "修正", "修订")  # the events that make a version of the text
_KIND = re.compile("|".join(KINDS))
_QUOTED = re.compile(r"《[^》]*》|〈[^〉]*〉")
_EVENT_LINE = re.compile(rf"^[（(]?\s*(?:根据)?\s*{_Y}\s*年")
_MAX_EVENT_LINE = 3000  # a regulation amended ten times lists them all in one paragraph
_TERM = re.compile(r"第?[一二三四五六七八九十百零〇\d]+届")  # 第十三届: which congress, not who
_ORGAN = re.compile(r"^[\s（(]*(?P<organ>[\u4e00-\u9fff（）()、]{2,40}?)"
                    r"(?:第[一二三四五六七八九十百零〇\d]+次|会议|公告|令第|令|[（(]?\d{4}年)")
_OWN_EFFECT = re.compile(
    r"本(?:条例|规定|办法|细则|实施细则|意见|实施意见|指导意见|方案|实施方案|工作方案|通知|决定|文件|规则|标准|准则|"
    r"章程|规划|计划|纲要|法|解释|制度)?\s*(?:自|从)\s*(?P<when>.{4,20}?)\s*起\s*(?:施行|执行|实施|生效)")


@dataclass(frozen=True)
class Event:
    date: str  # YYYY-MM-DD
    kind: str  # one of KINDS
    organ: str | None  # who did it, as the line names it ("潮州市人民代表大会常务委员会"), when it does

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"


def _cn_int(text: str) -> int:
    if text.isdigit():
        return int(text)
    text = text.replace("廿", "二十").replace("卅", "三十")
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(text, 0)


def iso_date(match: re.Match) -> str | None:
    """'二〇二一年十二月三十日' or '2021年12月30日' (a match of one of the date patterns) → '2021-12-30'."""
    y = match.group("y")
    year = int(y) if y.isdigit() else int("".join(str(_CN_DIGITS[c]) for c in y))
    month, day = _cn_int(match.group("m")), _cn_int(match.group("d"))
    if 1900 < year < 2100 and 1 <= month <= 12 and 1 <= day <= 31:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def find_date(lines: list[str]) -> str | None:
    """The first line that is a date and nothing else (a signature's date), as YYYY-MM-DD."""
    for line in lines:
        line = line.replace(" ", "")
        m = _DATE_LINE.match(line) or _ISO_DATE.match(line)
        if m:
            found = iso_date(m)
            if found:
                return found
    return None


def entries(lines: list[str], block: bool) -> list[str]:
    """The lines of a list of dated entries, each entry on one line: an entry wrapped over several lines (a
    long 《关于修改〈…〉的决定》, or a word cut in two) is joined. In a block that holds nothing but entries (above
    a LawRefBook marker) every line that does not start a new entry continues the one before; elsewhere only
    a line inside an unclosed 《 does."""
    out: list[str] = []
    for line in lines:
        starts = bool(_EVENT_LINE.match(line))
        if out and not starts and (block or _unclosed(out[-1])):
            out[-1] += line
        else:
            out.append(line)
    return out


def _unclosed(line: str) -> bool:
    return line.count("《") > line.count("》") or line.count("〈") > line.count("〉")


def events(lines: list[str], block: bool = False) -> tuple[Event, ...]:
    """The adoption events of lines that start with a date (or 根据 + a date) and say what happened on it.
    A line may hold several events ("…修订根据2017年11月30日…第一次修正"): it is split at each date."""
    out: list[Event] = []
    for line in entries(lines, block):
        if len(line) > _MAX_EVENT_LINE or not _EVENT_LINE.match(line):
            continue
        dates = list(DATE_IN_TEXT.finditer(line))
        for i, m in enumerate(dates):
            segment = line[m.end():dates[i + 1].start() if i + 1 < len(dates) else len(line)]
            # 《关于修改〈…〉的决定》: the words inside are a title, unless nothing outside says what happened
            # (a 》 misplaced after the verb: 《…的决定修正》)
            kinds = _KIND.findall(_QUOTED.sub("", segment)) or _KIND.findall(segment)
            date = iso_date(m)
            if kinds and date:
                out.append(Event(date, kinds[-1], _organ(segment)))
    return tuple(out)


def _organ(segment: str) -> str | None:
    m = _ORGAN.match(_TERM.sub("", segment))
    if not m:
        return None
    organ = re.sub(r"^中华人民共和国(?=国务院)", "", m.group("organ"))
    return organ if organ[-1] in "会院府局厅委部署办室" else None


def adopted_date(found: tuple[Event, ...]) -> str | None:
    """When the version in force was made: the latest 通过, 批准, 修正 or 修订."""
    dates = [e.date for e in found if e.kind in ADOPTING]
    return max(dates) if dates else None


def published_date(found: tuple[Event, ...]) -> str | None:
    dates = [e.date for e in found if e.kind in ("公布", "发布", "印发")]
    return max(dates) if dates else None


def effective_date(found: tuple[Event, ...], body: list[str], issued: str | None) -> str | None:
    """The date the text takes effect, as it states it: a 施行 line under the title, else its own article
    ("本办法自2021年1月1日起施行"; "自印发之日起施行" → the date it was issued or published, when the text gives
    one). An amended text often states its first version's date: that is what it says, and what is kept."""
    stated = [e.date for e in found if e.kind == "施行"]
    if stated:
        return max(stated)
    for line in reversed(body):
        for m in reversed(list(_OWN_EFFECT.finditer(line))):
            when = m.group("when").replace(" ", "")
            date = DATE_IN_TEXT.search(when)
            if date:
                return iso_date(date)
            if re.fullmatch(r"(?:印发|发布|公布|发文|下发)之日", when):
                return issued
    return None
