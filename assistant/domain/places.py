"""Which places a question names: covered jurisdictions become filters, others trigger an honest refusal."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.domain.divisions import (LEVEL_LABELS, LEVELS, NATIONAL, Place, ancestors, contains,  # noqa: F401
                                        lineage, parent_of, place_of)
from assistant.domain.segment import words

# The layers of government (re-exported from divisions.py, where the table is read): a document's `city` is a
# division's name (全国, 山东省, 青岛市, 郑州市中原区) with its `level` and `place_code`; `lineage(city)` is that
# place and every place above it, i.e. the documents that govern a school there.

# Provinces and major cities, for recognising places the corpus does not cover.
_KNOWN_PLACES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 "
    "四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 "
    "石家庄 太原 沈阳 长春 哈尔滨 南京 杭州 合肥 福州 济南 武汉 广州 海口 成都 贵阳 昆明 西安 兰州 西宁 "
    "呼和浩特 南宁 拉萨 银川 乌鲁木齐 深圳 厦门 宁波 大连 苏州 无锡 常州 南通 徐州 扬州 温州 绍兴 嘉兴 "
    "金华 台州 湖州 佛山 东莞 珠海 中山 惠州 汕头 烟台 潍坊 临沂 淄博 济宁 威海 日照 洛阳 开封 新乡 "
    "南阳 安阳 许昌 株洲 湘潭 衡阳 岳阳 常德 宜昌 襄阳 九江 赣州 上饶 景德镇 萍乡 宜春 吉安 抚州 "
    "芜湖 蚌埠 泉州 漳州 绵阳 宜宾 遵义 曲靖 保定 唐山 邯郸 廊坊 秦皇岛 大同 包头 鞍山 吉林市 "
    "大庆 齐齐哈尔 桂林 柳州 三亚 宝鸡 咸阳 天水 雄安 浦东 海淀 朝阳区 西城 东城 福田 南山 天河"
).split()

_GENERIC = frozenset("城市 全市 本市 各市 该市 我市 市县 超市 区市 上市 门市 夜市 股市 楼市 县市 城区 市区 "
                     "县区 本区 全区 各区 我区 辖区 开发区 学区 社区 园区 地区 山区 景区 片区 校区 示范区 "
                     "新区 老城区 县城 全省 本省 各省 外省 市属 区属 县属 省属 市直".split())


@dataclass(frozen=True)
class PlaceMatch:
    covered: tuple[str, ...]  # canonical city names from the corpus
    uncovered: tuple[str, ...]  # place names the corpus has no documents for


def aliases(city: str) -> list[str]:
    """'郑州市中原区' → ['郑州市中原区', '郑州中原区', '中原区', '郑州市', '郑州']."""
    names = {city}
    m = re.match(r"^(.+?市)(.+?[区县])$", city)
    if m:
        prefecture, district = m.groups()
        names |= {prefecture + district, prefecture[:-1] + district, district, prefecture, prefecture[:-1]}
    elif city.endswith(("市", "省", "区", "县")) and len(city) > 2:
        names.add(city[:-1])
    return sorted(names, key=len, reverse=True)


@lru_cache(maxsize=8)
def _alias_table(cities: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(alias, city) longest alias first, built once per set of cities (thousands at scale).

    A city's own name, then its name without the suffix, wins over the same words as part of another
    city's name: "常德市" is 常德市 itself, not 常德市武陵区."""
    best: dict[str, tuple[int, str]] = {}
    for city in cities:
        for alias in aliases(city):
            rank = 0 if alias == city else 1 if alias == city[:-1] else 2
            if alias not in best or rank <= best[alias][0]:
                best[alias] = (rank, city)
    return tuple(sorted(((a, c) for a, (_, c) in best.items()), key=lambda item: len(item[0]), reverse=True))


def find_places(question: str, cities: list[str]) -> PlaceMatch:
    found: list[str] = []
    rest = question
    for alias, city in _alias_table(tuple(cities)):
        if alias in rest:
            if city not in found:
                found.append(city)
            rest = rest.replace(alias, "　")
    uncovered: list[str] = []
    for name in _KNOWN_PLACES:
        if name in rest and name not in uncovered:
            uncovered.append(name)
            rest = rest.replace(name, "　")
    for token in words(rest):  # jieba keeps "杭州市", "海淀区" whole
        if (3 <= len(token) <= 7 and token[-1] in "省市县区" and token not in _GENERIC
                and not _looks_generic(token[:-1]) and token not in uncovered):
            uncovered.append(token)
    # keep the order in which the question names them
    found.sort(key=lambda c: min(question.find(a) for a in aliases(c) if a in question))
    return PlaceMatch(tuple(found), tuple(uncovered))


def _looks_generic(stem: str) -> bool:
    # "成员校所在区", "各县区": words ending in a place suffix that name no place.
    return any(ch in stem for ch in "各本该全我其所在属内外同一每某哪城乡校学")


_CITY_SEPARATORS = re.compile(r"[,，、;；\s]+")


def city_list(value) -> list[str] | None:
    """Cities as every entry point may receive them, as a list: None or empty → None; a string is one city (or
    several separated by commas or 、), never its characters; anything but strings is refused."""
    from assistant.errors import QuestionError

    if value is None:
        return None
    if isinstance(value, str):
        value = _CITY_SEPARATORS.split(value)
    elif not isinstance(value, (list, tuple, set, frozenset)):
        raise QuestionError(f"城市应为城市名称的列表，例如 [\"长沙市\"]，而不是 {type(value).__name__}。")
    cities = []
    for city in value:
        if not isinstance(city, str):
            raise QuestionError(f"城市名称应为文字，而不是 {type(city).__name__}：{str(city)[:20]}。")
        city = city.strip()
        if city and city not in cities:
            cities.append(city[:40])
    return cities or None
