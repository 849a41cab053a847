"""Candidate requirements for a person to confirm: clause sentences with 应/须/不得/原则上/不超过.

Nothing here is trusted silently. Candidates are listed by `policy-assistant charter suggest`, and a
jurisdiction without a curated list is checked against them only as provisional (待确认) requirements.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from assistant.chunking.clauses import chunk_document, split_sentences
from assistant.errors import CharterError
from assistant.domain.quantities import extract
from assistant.charter.requirements import KIND_LABELS, Parameter, Requirement, RequirementBook, Source
from assistant.domain.segment import STOPWORDS, words

# Obligation markers; 应 and 须 only as modal verbs (not 适应/相应/应用, 必须 is listed, 无须 is not).
MARKERS = re.compile(r"不得|原则上|不超过|不少于|严禁|禁止|必须|限设|"
                     r"(?<![适相供响对反回效呼顺感答理])应(?![用对届急变])|(?<![必无所急])须(?!知)")
_PROHIBITION = ("不得", "严禁", "禁止")
_PROCEDURE = re.compile(r"申请|报备|备案|审批|批准|批复|同意|报送|审查|签订|签署")
_LIMIT_OPS = (("不超过", "max"), ("以内", "max"), ("限设", "max"), ("最多", "max"), ("控制在", "about"),
              ("不少于", "min"), ("至少", "min"), ("不低于", "min"))
_UNITS = {"年": 1.0, "所": 1.0, "次": 1.0, "个月": 1.0, "月": 1.0, "人": 1.0, "名": 1.0}
# Words too general to tell one obligation from another.
_GENERIC = frozenset("教育集团 集团化办学 集团化 集团 学校 各级 工作 进一步 相关 开展 建立 推进 要求 方面 原则上 "
                     "不超过 不少于 不得 必须 根据 需要 实际 积极 充分 加强 实现 促进 提高 提升 有关 进行 以及 "
                     "其中 一般 适当 同时 各项 做好 认真 超过 其他 任何 任何理由 未经 擅自 不再 期间 左右 每所".split())
_MAX_TERMS = 4


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    city: str
    clause: str
    quote: str  # one verbatim sentence of the clause
    markers: tuple[str, ...]
    kind: str  # guessed; a person decides
    terms: tuple[str, ...]  # key words a draft sentence should share with the quote
    parameter: Parameter | None = None
    curated: tuple[str, ...] = ()  # ids of curated requirements already quoting this sentence
    status: str = "待确认"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kind_label"] = self.kind_label
        if self.parameter:
            d["parameter"]["description"] = self.parameter.describe()
        return d

    def as_requirement(self, rid: str, source: Source) -> Requirement:
        cues = tuple((t,) for t in self.terms)
        # a third of the key words (one of up to three, two of four) must occur in one draft sentence
        need = max(1, math.ceil(len(cues) / 3))
        return Requirement(
            id=rid, jurisdiction=self.city, kind=self.kind, topic="general",
            summary=_shorten(self.quote), source=source, cues=cues, draft=f"（待确认）{self.quote}",
            parameter=self.parameter, min_groups=need, provisional=True)


def _shorten(text: str, limit: int = 40) -> str:
    text = text.rstrip("。；;")
    return text if len(text) <= limit else text[:limit] + "……"


def _terms(sentence: str, df: dict[str, int]) -> tuple[str, ...]:
    seen: list[str] = []
    for w in words(sentence):
        w = w.strip()
        if (len(w) >= 2 and w not in STOPWORDS and w not in _GENERIC and not MARKERS.fullmatch(w)
                and not re.search(r"[\d零〇一二两三四五六七八九十]", w) and w not in seen):
            seen.append(w)
    # the rarest words in the corpus say what this obligation is about ("联考", not "严格控制")
    return tuple(sorted(seen, key=lambda w: (df.get(w, 0), -len(w)))[:_MAX_TERMS])


@lru_cache(maxsize=8)
def _clause_frequency(book: RequirementBook) -> dict[str, int]:
    """In how many clauses of the corpus each word occurs."""
    df: dict[str, int] = {}
    for doc in book.docs:
        for chunk in chunk_document(doc.doc_id, doc.text):
            for w in set(words(chunk.text)):
                df[w] = df.get(w, 0) + 1
    return df


def _kind_and_parameter(sentence: str, terms: tuple[str, ...]) -> tuple[str, Parameter | None]:
    for marker, op in _LIMIT_OPS:
        at = sentence.find(marker)
        if at < 0:
            continue
        tail = sentence[at:at + len(marker) + 8]
        for unit, factor in _UNITS.items():
            found = extract(tail, {unit: factor})
            if found:
                value = found[0].value
                return "limit", Parameter(name="auto", op=op, value=value, unit=unit,
                                          units=((unit, factor),), near=terms)
    if any(m in sentence for m in _PROHIBITION):
        return "prohibition", None
    if _PROCEDURE.search(sentence):
        return "procedure", None
    return "must_include", None


def suggest(book: RequirementBook, doc_id: str) -> list[Candidate]:
    """Every obligation-like sentence of a document, with its clause and guessed kind."""
    doc = book.doc(doc_id)
    if doc is None:
        known = "、".join(d.doc_id for d in book.docs)
        raise CharterError(f"语料中没有文档 {doc_id}。现有文档：{known}")
    curated = [r for r in book.requirements if r.source.doc_id == doc_id]
    df = _clause_frequency(book)
    candidates: list[Candidate] = []
    for chunk in chunk_document(doc.doc_id, doc.text):
        for sentence in split_sentences(chunk.text):
            sentence = sentence.strip()
            markers = tuple(dict.fromkeys(m.group(0) for m in MARKERS.finditer(sentence)))
            if not markers:
                continue
            terms = _terms(sentence, df)
            if not terms:
                continue
            kind, parameter = _kind_and_parameter(sentence, terms)
            same = tuple(r.id for r in curated if r.source.clause == chunk.clause
                         and (r.source.quote in sentence or sentence.rstrip("。；") in r.source.quote))
            candidates.append(Candidate(doc.doc_id, doc.city, chunk.clause, sentence, markers, kind, terms,
                                        parameter, same))
    return candidates


def provisional_requirements(book: RequirementBook, city: str) -> tuple[Requirement, ...]:
    """Candidates of every document of `city` in force as provisional requirements (待确认)."""
    out: list[Requirement] = []
    for doc in book.docs:
        if doc.city != city or not book.in_force(doc.doc_id):
            continue
        for n, c in enumerate(suggest(book, doc.doc_id), start=1):
            source = Source(doc.doc_id, c.clause, c.quote, doc.title, doc.doc_number, doc.status)
            out.append(c.as_requirement(f"{doc.doc_id}#{n:02d}", source))
    return tuple(out)
