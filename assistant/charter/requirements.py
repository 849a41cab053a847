"""Charter requirements as data: `corpus/requirements.json`, curated per jurisdiction.

Every requirement quotes its source clause verbatim; loading refuses a quote that is not in the
clause it names, so no requirement can be invented. Matching cues are AND-of-OR keyword groups:
[["备案", "报备"], ["教育局"]] means a draft sentence must contain (备案 or 报备) and 教育局.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.chunking.clauses import clauses
from assistant.corpus.manifest import load_corpus
from assistant.errors import CharterError
from assistant.domain.values import PATH_SEPARATOR, PolicyDoc, status_label
from assistant.domain.versions import IN_FORCE

REQUIREMENTS_FILE = "requirements.json"
SCHEMA_VERSION = 1

KINDS = ("must_include", "procedure", "limit", "prohibition")
KIND_LABELS = {"must_include": "必备内容", "procedure": "程序", "limit": "限制", "prohibition": "禁止"}
# Skeleton sections, in charter order; each requirement names the one it belongs to.
TOPICS = {
    "general": "总则",
    "establishment": "组建与审批",
    "governance": "组织机构",
    "documents": "章程配套文件与工作制度",
    "teaching": "教育教学与师资",
    "finance": "经费",
    "name_brand": "校名与品牌",
    "term": "合作期限",
    "membership": "成员纳新与退出",
    "supplementary": "附则",
}
OPS = ("max", "min", "eq", "about")
REVIEW_LABEL = "需复核"


@dataclass(frozen=True)
class Source:
    doc_id: str
    clause: str  # clause path as chunk_document gives it ("三、主要举措 › 5. 构建退出机制 › 限定合作时间")
    quote: str  # verbatim from that clause
    title: str = ""
    doc_number: str | None = None
    status: str = "official"

    @property
    def citation(self) -> str:
        number = f"（{self.doc_number}）" if self.doc_number else ""
        badge = "" if self.status == "official" else f"【{status_label(self.status)}】"
        return f"《{self.title}》{number}{badge} {self.clause}"


@dataclass(frozen=True)
class Parameter:
    """A numeric limit: compare the draft's numbers (near the cue words) with `value`."""

    name: str
    op: str  # max | min | eq | about ("10所左右")
    value: float
    unit: str  # display unit and base unit
    units: tuple[tuple[str, float], ...]  # accepted units with their factor to `unit`
    near: tuple[str, ...] = ()  # words whose clause segment holds the number (default: first cue group)
    exclude: tuple[str, ...] = ()  # segments with these words belong to another parameter
    scale: tuple[tuple[str, float], ...] = ()  # "每学期" → ×2 when the limit is per year

    def describe(self) -> str:
        value = format_number(self.value)
        return {"max": f"不超过{value}{self.unit}", "min": f"不少于{value}{self.unit}",
                "eq": f"{value}{self.unit}", "about": f"{value}{self.unit}左右"}[self.op]


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Exemption:
    """Sentences mentioning any of `any` (and none of `unless`) are outside a prohibition."""

    any: tuple[str, ...]
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class Requirement:
    id: str
    jurisdiction: str  # city as in the manifest ("长沙市", "郑州市中原区")
    kind: str  # must_include | procedure | limit | prohibition
    topic: str  # skeleton section (TOPICS)
    summary: str
    source: Source
    cues: tuple[tuple[str, ...], ...]
    draft: str = ""  # skeleton wording that satisfies the requirement
    applies_to: tuple[str, ...] = ()  # group types; empty = every type
    condition: str = ""  # when the requirement applies, e.g. "跨县区成立教育集团时"
    parameter: Parameter | None = None
    conflict_cues: tuple[tuple[str, ...], ...] = ()  # a sentence matching these contradicts it
    exempt: Exemption | None = None
    exclude: tuple[str, ...] = ()  # a sentence with one of these words is about something else
    min_groups: int = 0  # cue groups a sentence must match; 0 = all
    provisional: bool = False  # suggested from a clause, not confirmed by a person (待确认)
    # versions (charter/review.py): why the requirement needs a person's review (需复核) because its source
    # clause changed or disappeared in the version in force, with that version's wording; or the document the
    # source was written from when it now points at a newer version whose clause is unchanged
    review: str = ""
    current_text: str = ""
    updated_from: str = ""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def needs_review(self) -> bool:
        return bool(self.review)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kind_label"] = self.kind_label
        d["review_label"] = REVIEW_LABEL if self.review else ""
        d["source"]["citation"] = self.source.citation
        if self.parameter:
            d["parameter"]["description"] = self.parameter.describe()
        return d


@dataclass(frozen=True)
class GroupType:
    name: str
    aliases: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()  # when set, only requirements from these documents apply

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Jurisdiction:
    city: str
    group_types: tuple[GroupType, ...] = ()


@dataclass(frozen=True)
class RequirementBook:
    """Curated requirements plus the corpus they quote (for citations and for suggestions)."""

    version: int
    jurisdictions: tuple[Jurisdiction, ...]
    requirements: tuple[Requirement, ...]
    docs: tuple[PolicyDoc, ...] = field(repr=False, default=())
    forces: tuple[tuple[str, str], ...] = ()  # (doc_id, standing on the day the book was read), see review.py

    def in_force(self, doc_id: str) -> bool:
        """Whether a document is a version in force (every document counts in a book read without versions)."""
        force = dict(self.forces).get(doc_id)
        return force is None or force in IN_FORCE

    @property
    def cities(self) -> list[str]:
        return list(dict.fromkeys(d.city for d in self.docs))

    def jurisdiction(self, city: str) -> Jurisdiction:
        for j in self.jurisdictions:
            if j.city == city:
                return j
        return Jurisdiction(city)

    def curated(self, city: str) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.jurisdiction == city)

    def doc(self, doc_id: str) -> PolicyDoc | None:
        return next((d for d in self.docs if d.doc_id == doc_id), None)


# ---------------------------------------------------------------- loading

def load_book(corpus_dir: Path, on: str | None = None) -> RequirementBook:
    """The corpus's requirement book, its sources checked against the versions in force on day `on` (today
    by default: see review.py); a corpus without requirements.json has no curated lists."""
    from assistant.charter.review import reviewed

    return reviewed(read_book(corpus_dir), on)


def read_book(corpus_dir: Path) -> RequirementBook:
    """The requirement book as written, each quote verified against the document it names."""
    corpus_dir = Path(corpus_dir)
    docs = tuple(load_corpus(corpus_dir))
    path = corpus_dir / REQUIREMENTS_FILE
    if not path.is_file():
        return RequirementBook(SCHEMA_VERSION, (), (), docs)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CharterError(f"要求清单 {REQUIREMENTS_FILE} 格式错误：第 {getattr(exc, 'lineno', '?')} 行") from exc
    return parse_book(data, docs)


def parse_book(data: dict, docs: tuple[PolicyDoc, ...]) -> RequirementBook:
    if data.get("version") != SCHEMA_VERSION:
        raise CharterError(f"要求清单版本不受支持：{data.get('version')}（应为 {SCHEMA_VERSION}）")
    by_id = {d.doc_id: d for d in docs}
    cities = {d.city for d in docs}
    jurisdictions = tuple(_jurisdiction(j, cities) for j in data.get("jurisdictions", []))
    clause_texts = {d.doc_id: _clause_texts(d) for d in docs}
    requirements: list[Requirement] = []
    seen: set[str] = set()
    for entry in data.get("requirements", []):
        req = _requirement(entry, by_id)
        if req.id in seen:
            raise CharterError(f"要求清单中的编号重复：{req.id}")
        seen.add(req.id)
        _verify_source(req, by_id, clause_texts)
        requirements.append(req)
    return RequirementBook(SCHEMA_VERSION, jurisdictions, tuple(requirements), docs)


def _clause_texts(doc: PolicyDoc) -> dict[str, str]:
    texts: dict[str, str] = {}
    for clause in clauses(doc.text):
        key = PATH_SEPARATOR.join(clause.path)
        texts[key] = texts.get(key, "") + "\n" + clause.text
    return texts


def _verify_source(req: Requirement, docs: dict[str, PolicyDoc], clause_texts: dict) -> None:
    doc = docs[req.source.doc_id]
    if doc.city != req.jurisdiction:
        raise CharterError(f"要求 {req.id} 的依据文件属于{doc.city}，与适用地区{req.jurisdiction}不符")
    text = clause_texts[doc.doc_id].get(req.source.clause)
    if text is None:
        raise CharterError(f"要求 {req.id} 引用的条款不存在：{req.source.clause}")
    if req.source.quote not in text:
        raise CharterError(f"要求 {req.id} 的引文不是该条款原文：「{req.source.quote[:30]}」")


def _jurisdiction(entry: dict, cities: set[str]) -> Jurisdiction:
    city = entry.get("city")
    if city not in cities:
        raise CharterError(f"要求清单中的地区不在语料中：{city}")
    types = tuple(GroupType(t["name"], tuple(t.get("aliases", ())), tuple(t.get("documents", ())))
                  for t in entry.get("group_types", []))
    return Jurisdiction(city, types)


def _groups(value, rid: str, name: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(g, list) and g and all(
            isinstance(w, str) and w for w in g) for g in value):
        raise CharterError(f"要求 {rid} 的 {name} 应为非空关键词组的列表")
    return tuple(tuple(g) for g in value)


def _requirement(entry: dict, docs: dict[str, PolicyDoc]) -> Requirement:
    rid = entry.get("id") or "?"
    missing = [k for k in ("id", "jurisdiction", "kind", "topic", "summary", "cues", "source", "draft")
               if not entry.get(k)]
    if missing:
        raise CharterError(f"要求 {rid} 缺少字段：{', '.join(missing)}")
    if entry["kind"] not in KINDS:
        raise CharterError(f"要求 {rid} 的类别无效：{entry['kind']}")
    if entry["topic"] not in TOPICS:
        raise CharterError(f"要求 {rid} 的章节无效：{entry['topic']}")
    src = entry["source"]
    doc = docs.get(src.get("doc_id"))
    if doc is None:
        raise CharterError(f"要求 {rid} 的依据文件不在语料中：{src.get('doc_id')}")
    if not src.get("clause") or not src.get("quote"):
        raise CharterError(f"要求 {rid} 的依据缺少条款或引文")
    cues = _groups(entry["cues"], rid, "cues")
    conflict = _groups(entry["conflict_cues"], rid, "conflict_cues") if entry.get("conflict_cues") else ()
    exempt = entry.get("exempt")
    min_groups = int(entry.get("min_groups", 0))
    if not 0 <= min_groups <= len(cues):
        raise CharterError(f"要求 {rid} 的 min_groups 超出关键词组数")
    return Requirement(
        id=rid, jurisdiction=entry["jurisdiction"], kind=entry["kind"], topic=entry["topic"],
        summary=entry["summary"],
        source=Source(doc.doc_id, src["clause"], src["quote"], doc.title, doc.doc_number, doc.status),
        cues=cues, draft=entry["draft"], applies_to=tuple(entry.get("applies_to", ())),
        condition=entry.get("condition", ""), parameter=_parameter(entry.get("parameter"), rid, cues),
        conflict_cues=conflict,
        exempt=Exemption(tuple(exempt["any"]), tuple(exempt.get("unless", ()))) if exempt else None,
        exclude=tuple(entry.get("exclude", ())), min_groups=min_groups,
    )


def _parameter(entry: dict | None, rid: str, cues) -> Parameter | None:
    if not entry:
        return None
    if entry.get("op") not in OPS:
        raise CharterError(f"要求 {rid} 的参数比较方式无效：{entry.get('op')}")
    unit = entry.get("unit")
    units = dict(entry.get("units") or {unit: 1})
    if not unit or unit not in units or not isinstance(entry.get("value"), (int, float)):
        raise CharterError(f"要求 {rid} 的参数缺少数值或单位")
    return Parameter(
        name=entry.get("name", ""), op=entry["op"], value=float(entry["value"]), unit=unit,
        units=tuple(units.items()), near=tuple(entry.get("near") or cues[0]),
        exclude=tuple(entry.get("exclude", ())), scale=tuple((entry.get("scale") or {}).items()),
    )
