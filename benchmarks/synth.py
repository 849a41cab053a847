"""Synthetic corpora for the scale benchmark: N documents recombined from the bundled seed documents, with
generated cities/districts, document numbers, dates and a few varied numbers, plus gold questions whose
answer clause is known.

Deterministic: document i of a corpus depends only on the seed and i, so the 100-document corpus is the
first 100 documents of the 1,000 one, and so on. Each city holds at most one document per seed, so "city +
clause phrase" names exactly one clause; wording is otherwise near-identical across cities on purpose (it
tests city detection and filters).

Clause texts repeat across documents (only ~1 in 4 numeric paragraphs is varied, from a few variants), so
embeddings come from the cache after the first few hundred documents. Texts never name the city: the
city, title, issuer and document number live in the manifest, as they would for a scanned archive whose
metadata was catalogued. (A per-document text header would make every document's first chunk new.)
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ("nanchang-jituan-2021", "nanchang-gongtongti", "zhongyuan-jituan-draft", "changsha-jituan-2020",
         "qingdao-yijian")  # the interpretation of qingdao-yijian repeats it, so it seeds nothing

# (title, short title) per seed, "{place}" / "{short}" filled per document
TITLES = {
    "nanchang-jituan-2021": ("{place}教育局关于进一步推动义务教育集团化办学高质量发展的实施意见", "{short}集团化办学实施意见"),
    "nanchang-gongtongti": ("{place}关于推进义务教育城乡发展共同体建设的实施意见", "{short}城乡发展共同体实施意见"),
    "zhongyuan-jituan-draft": ("{place}推进公办中小学集团化办学实施方案（征求意见稿）", "{short}集团化办学实施方案（征求意见稿）"),
    "changsha-jituan-2020": ("{place}关于进一步优化基础教育集团化办学的指导意见", "{short}集团化办学指导意见"),
    "qingdao-yijian": ("{place}关于推进中小学集团化办学的意见", "{short}集团化办学意见"),
}
# The seeds' own places become neutral words, so a document attributed to 苏州市姑苏区 does not cite 长沙.
_SEED_PLACES = (("郑州市中原区", "本区"), ("中原区", "本区"), ("郑州市", "本市"), ("南昌市", "本市"),
                ("长沙市", "本市"), ("青岛市", "本市"), ("南昌", "本市"), ("长沙", "本市"), ("青岛", "本市"),
                ("郑州", "本市"))

# Real prefecture-level cities and real district/county names (paired freely: the pairs are synthetic).
PREFECTURES = tuple(
    "苏州 无锡 常州 南通 扬州 镇江 泰州 盐城 淮安 宿迁 连云港 徐州 温州 嘉兴 湖州 绍兴 金华 衢州 台州 丽水 "
    "芜湖 蚌埠 淮南 马鞍山 安庆 滁州 阜阳 六安 泉州 漳州 莆田 三明 龙岩 赣州 九江 上饶 宜春 吉安 株洲 湘潭 "
    "衡阳 岳阳 常德 益阳 郴州 永州 怀化 邵阳 烟台 潍坊 淄博 济宁 泰安 威海 日照 临沂 德州 聊城 洛阳 开封 "
    "新乡 南阳 安阳 许昌 平顶山 信阳 周口 商丘 宜昌 襄阳 荆州 黄石 十堰 孝感 黄冈 咸宁 绵阳 德阳 宜宾 泸州 "
    "乐山 南充 遵义 曲靖 玉溪 桂林 柳州 北海 宝鸡 咸阳 汉中 天水 保定 唐山 邯郸 邢台 沧州 廊坊".split())
DISTRICTS = tuple(
    "姑苏区 吴中区 相城区 梁溪区 滨湖区 惠山区 武进区 新北区 崇川区 通州区 邗江区 广陵区 京口区 海陵区 "
    "亭湖区 清江浦区 宿城区 海州区 鼓楼区 云龙区 鹿城区 瓯海区 秀洲区 吴兴区 越城区 柯桥区 婺城区 柯城区 "
    "椒江区 莲都区 镜湖区 蚌山区 田家庵区 花山区 迎江区 琅琊区 颍州区 金安区 鲤城区 芗城区 城厢区 三元区 "
    "新罗区 章贡区 濂溪区 信州区 袁州区 吉州区 荷塘区 雨湖区 蒸湘区 岳阳楼区 武陵区 赫山区 北湖区 冷水滩区 "
    "鹤城区 双清区 芝罘区 奎文区 张店区 任城区 泰山区 环翠区 东港区 兰山区 德城区 东昌府区 西工区 龙亭区 "
    "红旗区 卧龙区 文峰区 魏都区 新华区 浉河区 川汇区 梁园区 西陵区 樊城区 沙市区 黄石港区 茅箭区 孝南区 "
    "黄州区 咸安区 涪城区 旌阳区 翠屏区 江阳区 市中区 顺庆区 红花岗区 麒麟区 红塔区 秀峰区 城中区 海城区 "
    "渭滨区 秦都区 汉台区 秦州区 竞秀区 路北区 丛台区 襄都区 运河区 广阳区 "
    "昆山 常熟 江阴 宜兴 溧阳 如皋 海门 仪征 丹阳 兴化 东台 沭阳 东海 邳州 乐清 瑞安 海宁 桐乡 长兴 诸暨 "
    "义乌 东阳 永康 江山 温岭 临海 龙泉 无为 怀远 凤台 含山 桐城 天长 界首 霍邱 晋江 石狮 南安 龙海 仙游 "
    "永安 漳平 瑞金 南康 瑞昌 德兴 丰城 井冈山 醴陵 湘乡 耒阳 汨罗 津市 沅江 资兴 祁阳 洪江 武冈 龙口 "
    "寿光 高密 邹城 新泰 荣成 乳山 莒县 沂水 乐陵 临清 偃师 兰考 长垣 邓州 林州 禹州 舞钢 固始 项城 "
    "永城 宜都 枣阳 松滋 大冶 丹江口 汉川 麻城 赤壁 江油 广汉 江安 合江 峨眉山 阆中 仁怀 宣威 澄江 "
    "阳朔 柳江 合浦 凤翔 兴平 城固 甘谷 涿州 迁安 武安 沙河 任丘 三河".split())
PREFECTURE_SHARE = 0.12  # some documents are issued by a prefecture-level city itself
EDITIONS = 3


@dataclass(frozen=True)
class SynthDoc:
    doc_id: str
    seed: str
    city: str
    title: str
    short_title: str
    issuer: str
    doc_number: str
    date: str
    status: str
    text: str

    def manifest_entry(self) -> dict:
        return {"doc_id": self.doc_id, "file": f"docs/{self.doc_id}.txt", "title": self.title,
                "short_title": self.short_title, "city": self.city, "issuer": self.issuer,
                "doc_number": self.doc_number, "date": self.date, "status": self.status,
                "source": f"synthetic from {self.seed}"}


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    city: str
    doc_id: str
    clause: str
    key_phrase: str
    kind: str  # title | phrase | number


# ---------------------------------------------------------------- seeds
@dataclass(frozen=True)
class _Unit:
    depth: int  # heading depth, as chunking.clauses() stacks them
    paragraphs: tuple[str, ...]


@lru_cache(maxsize=None)
def _seed(doc_id: str) -> tuple[tuple[str, ...], tuple[_Unit, ...], str]:
    """(preamble sentences, heading units, status) of a bundled document, its places made neutral."""
    from assistant.chunking.clauses import paragraphs
    from assistant.corpus.manifest import load_corpus

    doc = next(d for d in load_corpus(ROOT / "corpus") if d.doc_id == doc_id)
    text = doc.text
    for old, new in _SEED_PLACES:
        text = text.replace(old, new)
    paras = paragraphs(text)
    first = next(i for i, p in enumerate(paras) if p.heading_kind and p.heading_kind != "lead")
    # keep the preamble's sentences only: header lines carry the seed's own document number
    preamble = tuple(p.text for p in paras[:first] if "。" in p.text and not p.text.endswith("的通知"))
    units: list[list] = []
    stack: list[str] = []
    for p in paras[first:]:
        if p.heading_kind is None:
            units[-1][1].append(p.text)
            continue
        if p.heading_kind in stack:
            del stack[stack.index(p.heading_kind):]
        stack.append(p.heading_kind)
        units.append([len(stack), [p.text]])
    return preamble, tuple(_Unit(d, tuple(ps)) for d, ps in units), doc.status


_NUMBER = re.compile(r"(20[12]\d)(?=年)|([二三四五六七八九十])(?=[年所个次名])|(?<![\d.])([2-9]|[1-9]\d)(?=[所个年次名%])")
_CN = "零一二三四五六七八九十"


def _shift(text: str, step: int) -> str:
    """The same sentence with its years, counts and percentages moved by `step`."""
    def repl(m: re.Match) -> str:
        if m.group(1):
            return str(int(m.group(1)) + step)
        if m.group(2):
            value = _CN.index(m.group(2)) + step
            return _CN[value] if value <= 10 else str(value)
        value = int(m.group(3)) + step * (5 if int(m.group(3)) >= 20 else 1)
        return str(min(value, 99))
    return _NUMBER.sub(repl, text)


# ---------------------------------------------------------------- documents
def _city(rng: random.Random, used: set[str]) -> tuple[str, str]:
    """(full name, short name) of a city not used before, e.g. ('苏州市姑苏区', '姑苏区')."""
    while True:
        prefecture = rng.choice(PREFECTURES)
        if rng.random() < PREFECTURE_SHARE:
            name, short = f"{prefecture}市", prefecture
        else:
            district = rng.choice(DISTRICTS)
            suffix = "" if district.endswith("区") else rng.choice(("市", "县"))
            name, short = f"{prefecture}市{district}{suffix}", f"{district}{suffix}"
        if name not in used:
            used.add(name)
            return name, short


def _document(seed: str, index: int, city: str, short: str, rng: random.Random) -> SynthDoc:
    preamble, units, status = _seed(seed)
    # Recombination: each document is one of a few editions of its seed (some leaf clauses dropped), with
    # ~1 in 4 numeric paragraphs varied. Few editions keep the naive splitter's 400-character windows
    # repeating too, so neither pipeline has to embed more than a few hundred distinct texts.
    edition = random.Random(f"{seed}/{rng.randrange(EDITIONS)}")
    kept: list[str] = list(preamble)
    for i, unit in enumerate(units):
        leaf = i + 1 == len(units) or units[i + 1].depth <= unit.depth
        if leaf and edition.random() < 0.2:
            continue
        for para in unit.paragraphs:
            if _NUMBER.search(para) and rng.random() < 0.25:
                para = _shift(para, rng.randint(1, 2))
            kept.append(para)
    year = rng.randint(2018, 2025)
    title, short_title = TITLES[seed]
    return SynthDoc(
        doc_id=f"syn-{index:05d}", seed=seed, city=city, title=title.format(place=city),
        short_title=short_title.format(short=short), issuer=f"{city}教育局",
        doc_number=f"{short[0]}教{'基' if rng.random() < 0.5 else '发'}〔{year}〕{rng.randint(1, 120)}号",
        date=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", status=status,
        text="\n\n".join(kept) + "\n")


def documents(n: int, seed: int = 9) -> list[SynthDoc]:
    """The first n documents of the stream: cities in turn, each with 3 to 5 of the seed documents."""
    rng = random.Random(seed)
    used: set[str] = set()
    out: list[SynthDoc] = []
    while len(out) < n:
        city, short = _city(rng, used)
        for s in rng.sample(SEEDS, rng.randint(3, 5)):
            out.append(_document(s, len(out), city, short, random.Random(f"{seed}/{len(out)}")))
    return out[:n]


def write_corpus(docs: list[SynthDoc], directory: Path) -> Path:
    (directory / "docs").mkdir(parents=True, exist_ok=True)
    for d in docs:
        (directory / "docs" / f"{d.doc_id}.txt").write_text(d.text, encoding="utf-8")
    manifest = {"version": 1, "documents": [d.manifest_entry() for d in docs]}
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return directory


# ---------------------------------------------------------------- questions
_PIECE = re.compile(r"[^，。；：“”（）《》\n]+")
_ASK_PHRASE = ("{city}的文件里，{phrase}是怎么规定的？", "{city}对“{phrase}”有什么要求？",
               "在{city}，关于{phrase}，政策怎么说？", "{city}：{phrase}，具体怎么做？")
_ASK_TITLE = ("{city}在{title}方面有什么规定？", "{city}关于{title}是怎么要求的？")
_ASK_NUMBER = ("{city}的政策里，{phrase}？", "{city}规定{phrase}？")


def _squash(text: str) -> str:
    return re.sub(r"[\s*]+", "", text)


def _title_of(segment: str) -> str:
    return re.sub(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.．、]\s*)", "", segment)


def questions(docs: list[SynthDoc], n: int, seed: int = 9, city_docs: dict[str, list[SynthDoc]] | None = None,
              prefix: str = "q") -> list[Question]:
    """n questions about clauses of `docs`, each answerable by exactly one clause of its city.

    `city_docs` (default: grouped from `docs`) is every document of each city, so uniqueness holds in any
    larger corpus of the same stream."""
    from assistant.chunking.clauses import chunk_document

    rng = random.Random(f"questions/{seed}/{prefix}")
    if city_docs is None:
        city_docs = {}
        for d in docs:
            city_docs.setdefault(d.city, []).append(d)
    out: list[Question] = []
    tries = 0
    while len(out) < n and tries < n * 20:
        tries += 1
        doc = rng.choice(docs)
        chunks = [c for c in chunk_document(doc.doc_id, doc.text) if c.path[0] != "序言"]
        chunk = rng.choice(chunks)
        siblings = [_squash(d.text) for d in city_docs[doc.city]]
        made = _question(doc, chunk, siblings, rng)
        if made:
            text, key, kind = made
            out.append(Question(f"{prefix}{len(out):03d}", text, doc.city, doc.doc_id, chunk.clause, key, kind))
    return out


def _question(doc: SynthDoc, chunk, siblings: list[str], rng: random.Random):
    unique = lambda s: sum(t.count(_squash(s)) for t in siblings) == 1  # noqa: E731
    # whole comma-delimited pieces of 8 to 20 characters, list markers removed
    pieces = [p for p in (_title_of(x.strip()) for x in _PIECE.findall(chunk.text))
              if 8 <= len(p) <= 20 and not p[0].isdigit() and unique(p)]
    title = _title_of(chunk.path[-1])
    roll = rng.random()
    numeric = [p for p in pieces if _NUMBER.search(p)]
    if numeric and roll < 0.5:
        piece = rng.choice(numeric)
        m = _NUMBER.search(piece)
        asked = piece[:m.start()] + ("几" if m.group(2) or m.group(3) else "哪一") + piece[m.end():]
        return rng.choice(_ASK_NUMBER).format(city=doc.city, phrase=asked), piece, "number"
    if roll < 0.3 and 4 <= len(title) <= 16 and sum(t.count(_squash(title)) for t in siblings) == 1:
        return rng.choice(_ASK_TITLE).format(city=doc.city, title=title), title, "title"
    if pieces:
        piece = rng.choice(pieces)
        return rng.choice(_ASK_PHRASE).format(city=doc.city, phrase=piece), piece, "phrase"
    return None


def write_questions(items: list[Question], path: Path) -> None:
    path.write_text("".join(json.dumps(asdict(q), ensure_ascii=False) + "\n" for q in items), encoding="utf-8")
