"""China's administrative divisions, read from the division table the cpca package ships (adcodes.csv, with
the six-digit codes of GB/T 2260): which places exist, their level, and which place contains which.

A document's jurisdiction is one `Place`: 全国 (national), a province (省, 自治区 and the four municipalities
北京/天津/上海/重庆), a city (地级市, 自治州, 地区, 盟) or a district (区, 县, 县级市, 旗). A school in 郑州市中原区
is governed by the documents of 郑州市中原区, 郑州市, 河南省 and 全国: `lineage` gives that chain.

Only the CSV is read (located without importing cpca, whose import needs pkg_resources and pandas)."""
from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEVELS = ("national", "province", "city", "district")
LEVEL_LABELS = {"national": "国家级", "province": "省级", "city": "市级", "district": "区县级"}
NATIONAL_CODE = "100000"  # no GB/T 2260 code exists for the country; 100000 is the customary one
NATIONAL_NAME = "全国"

# Rows of the table that group places without being one ("市辖区" under a municipality, "省直辖县级行政区划").
_GROUPING = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
_SUFFIX = re.compile(r"(?:省|市|特别行政区|自治区|自治州|地区|盟)$")
_MAX_NAME = 16


@dataclass(frozen=True)
class Place:
    code: str  # six-digit division code (adcode); 100000 for 全国
    name: str  # the name documents are filed under: 全国, 山东省, 青岛市, 郑州市中原区, 义乌市
    official: str  # the table's own name: 中原区
    level: str  # national | province | city | district
    parent: str | None  # the code of the place directly above (None for 全国)

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]

    @property
    def label(self) -> str:
        """'山东省·省级', as a citation shows a document's layer."""
        return f"{self.name}·{self.level_label}"


NATIONAL = Place(NATIONAL_CODE, NATIONAL_NAME, NATIONAL_NAME, "national", None)


@dataclass(frozen=True)
class Divisions:
    by_code: dict[str, Place]
    by_name: dict[str, tuple[Place, ...]]  # every name a place goes by → the places (a few names are shared)

    def named(self, name: str) -> tuple[Place, ...]:
        return self.by_name.get(name, ())


def _table_path() -> Path:
    spec = importlib.util.find_spec("cpca")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "resources" / "adcodes.csv"
        if path.is_file():
            return path
    raise RuntimeError("找不到行政区划表（需要安装 cpca 包，见 pyproject.toml）")


def _level(code: str) -> str:
    return "province" if code.endswith("0000") else "city" if code.endswith("00") else "district"


def _parent(code: str, names: dict[str, str]) -> str:
    level = _level(code)
    if level == "province":
        return NATIONAL_CODE
    province = code[:2] + "0000"
    if level == "city":
        return province
    city = code[:4] + "00"
    return city if city in names and names[city] not in _GROUPING else province


@lru_cache(maxsize=1)
def _nations() -> tuple[str, ...]:
    """Ethnic group names, longest first, with and without 族 (for 广西壮族自治区 → 广西, 彭水苗族土家族自治县 → 彭水)."""
    path = _table_path().with_name("56_nations.csv")
    found = {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    found |= {n[:-1] for n in found if n.endswith("族") and len(n) > 2}
    return tuple(sorted(found, key=len, reverse=True))


def short_name(official: str) -> str | None:
    """'山东省' → '山东', '青岛市' → '青岛', '广西壮族自治区' → '广西', '延边朝鲜族自治州' → '延边'; None when
    nothing of two characters or more is left."""
    stem = _SUFFIX.sub("", official)
    changed = True
    while changed:
        changed = False
        for nation in _nations():
            if stem.endswith(nation) and len(stem) - len(nation) >= 2:
                stem, changed = stem[:-len(nation)], True
                break
    return stem if len(stem) >= 2 and stem != official else None


def _canonical(code: str, official: str, parent: Place) -> str:
    if _level(code) != "district":
        return official
    # a county-level city is known by its own name (义乌市); a district by its city's name too (郑州市中原区)
    return official if official.endswith("市") else parent.name + official


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    with open(_table_path(), encoding="utf-8", newline="") as fh:
        names = {row["adcode"][:6]: row["name"].strip() for row in csv.DictReader(fh)}
    by_code: dict[str, Place] = {NATIONAL_CODE: NATIONAL}
    for code in sorted(names):  # parents (smaller codes within a prefix) come first
        official = names[code]
        if official in _GROUPING:
            continue
        parent = by_code[_parent(code, names)]
        by_code[code] = Place(code, _canonical(code, official, parent), official, _level(code), parent.code)
    by_name: dict[str, list[Place]] = {}
    for place in by_code.values():
        keys = {place.name, place.official}
        if place.level in ("province", "city") or place.official.endswith("市"):  # 青岛, 义乌: not 中原 or 浚
            keys.add(short_name(place.official))
        for key in keys - {None}:
            by_name.setdefault(key, []).append(place)
    return Divisions(by_code, {k: tuple(v) for k, v in by_name.items()})


# ---------------------------------------------------------------- the API

def place_of(name_or_code: str | None) -> Place | None:
    """The place a name or code denotes, when exactly one: '郑州市中原区', '中原区', '410102', '青岛', '全国'.
    None for unknown or shared names ('朝阳区' is in 北京 and in 长春) — never a guess."""
    if not name_or_code:
        return None
    key = str(name_or_code).strip()
    table = divisions()
    if key in table.by_code:
        return table.by_code[key]
    found = table.named(key)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        return _highest(found)
    chain = chain_at_start(key)
    if chain and chain.end == len(key) and len(chain.places) == 1:
        return chain.places[0]
    return None


def _highest(places: tuple[Place, ...]) -> Place | None:
    """'吉林' is 吉林省 before 吉林市: a shared name means the higher level when exactly one place has it."""
    top = min(LEVELS.index(p.level) for p in places)
    best = [p for p in places if LEVELS.index(p.level) == top]
    return best[0] if len(best) == 1 else None


def parent_of(place: Place) -> Place | None:
    return divisions().by_code.get(place.parent) if place.parent else None


def ancestors(place: Place | str) -> tuple[Place, ...]:
    """The places above, nearest first: 郑州市中原区 → (郑州市, 河南省, 全国); 全国 → ()."""
    current = place if isinstance(place, Place) else place_of(place)
    out: list[Place] = []
    while current is not None and current.parent:
        current = parent_of(current)
        if current is not None:
            out.append(current)
    return tuple(out)


def lineage(place: Place | str) -> tuple[Place, ...]:
    """The place itself and every place above it: the documents a school there is governed by."""
    own = place if isinstance(place, Place) else place_of(place)
    return () if own is None else (own, *ancestors(own))


def contains(outer: Place, inner: Place) -> bool:
    """True when `inner` is `outer` or lies within it."""
    return outer == inner or outer in ancestors(inner)


@dataclass(frozen=True)
class Chain:
    """Places named one after another at the start of a text ('河南省郑州市中原区…'): the candidates for the
    most specific one (several when its name is shared and nothing before it decides), and where it ends."""

    places: tuple[Place, ...]
    end: int


def chain_at_start(text: str) -> Chain | None:
    """The most specific place named at the very start of `text`, each name lying within the one before:
    '山东省青岛市教育局' → 青岛市; '中原区推进…' → 郑州市中原区; '朝阳区…' → both 朝阳区 (the caller decides)."""
    table = divisions()
    pos, current, end = 0, (), 0
    while True:
        step = _longest_name(text, pos, table, current)
        if step is None:
            break
        current, pos = step
        end = pos
    return Chain(current, end) if current else None


def _longest_name(text: str, pos: int, table: Divisions, within: tuple[Place, ...]):
    for size in range(min(_MAX_NAME, len(text) - pos), 1, -1):
        found = table.named(text[pos:pos + size])
        if within:
            found = tuple(p for p in found if any(contains(w, p) and w != p for w in within))
        elif len(found) > 1 and len({p.level for p in found}) > 1:
            found = (_highest(found),) if _highest(found) else found
        if found:
            return found, pos + size
    return None
