"""Frozen value types that flow through the pipeline: documents, chunks, citations, answers."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from assistant.domain.divisions import LEVEL_LABELS
from assistant.domain.versions import state_label

PATH_SEPARATOR = " › "
NOT_SPECIFIED_LABEL = "未作规定"  # a city whose documents do not address a question
OCR_LABEL = "OCR 识别"  # shown beside a citation whose text was read from a scan

# A document's status: the code stored in manifests and indexes, and the label users read.
STATUS_LABELS = {
    "official": "正式文件",
    "draft": "征求意见稿",
    "interpretation": "政策解读",
}
STATUSES = tuple(STATUS_LABELS)
_STATUS_NAMES = {"正式": "official", "正式文件": "official", "征求意见稿": "draft", "草案": "draft",
                 "解读": "interpretation", "政策解读": "interpretation"}


# Whether a document is in force, as far as its text says (None: nothing said, which is the usual case).
VALIDITY_LABELS = {
    "trial": "试行",
    "interim": "暂行",
    "repealed": "已废止",
}
_VALIDITY_NAMES = {"试行": "trial", "暂行": "interim", "废止": "repealed", "已废止": "repealed", "失效": "repealed",
                   "已失效": "repealed"}


def parse_validity(value: str) -> str | None:
    """The validity code for a code or a Chinese name ("试行" → "trial"); None when it names none."""
    value = value.strip()
    return value if value in VALIDITY_LABELS else _VALIDITY_NAMES.get(value)


# What importing one file of a batch came to.
IMPORT_OUTCOME_LABELS = {"imported": "已导入", "unchanged": "未变化", "needs_field": "需补充字段", "failed": "失败"}


def metric_text(value) -> str:
    """A metric as reports show it: shares to three decimals, larger figures (milliseconds) to one, — for none."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.1f}"
    return str(value)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def parse_status(value: str) -> str | None:
    """The status code for a code or a Chinese name ("征求意见稿" → "draft"); None when it names none."""
    value = value.strip()
    return value if value in STATUSES else _STATUS_NAMES.get(value)


@dataclass(frozen=True)
class PolicyDoc:
    """One policy document with its metadata and raw text."""

    doc_id: str
    title: str
    city: str
    issuer: str | None
    doc_number: str | None
    date: str | None
    status: str  # official | draft | interpretation
    text: str
    short_title: str | None = None
    interprets: str | None = None  # doc_id of the normative text an interpretation explains
    level: str | None = None  # national | province | city | district (see domain/divisions.py)
    place_code: str | None = None  # the division code of `city`
    # validity and lineage (see domain/versions.py); None when the catalogue does not say
    adopted_date: str | None = None
    effective_date: str | None = None
    expiry_date: str | None = None
    validity: str | None = None  # trial | interim | repealed
    supersedes: str | None = None  # doc_id of the previous version
    superseded_by: str | None = None  # doc_id of the next version

    def meta(self) -> dict:
        """The catalogue fields without the text, as the index keeps them (for domain/versions.py)."""
        return {k: v for k, v in asdict(self).items() if k != "text"}


@dataclass(frozen=True)
class Chunk:
    """One clause (or a run of whole sentences of a long clause) with its place in the document."""

    chunk_id: str
    doc_id: str
    path: tuple[str, ...]
    text: str
    ordinal: int  # position within the document
    part: int = 1
    parts: int = 1
    # for a later piece of a split clause: the subject the text before it set ("引领型教育集团要成立理事会"),
    # so the piece is not read as if it applied to everything (searched and shown, never quoted as its text)
    context: str = ""

    @property
    def clause(self) -> str:
        return PATH_SEPARATOR.join(self.path)


@dataclass(frozen=True)
class Citation:
    """A retrieved chunk as shown to users: where it stands and what it says."""

    chunk_id: str
    doc_id: str
    title: str
    city: str
    doc_number: str | None
    clause: str
    status: str
    text: str
    score: float
    n: int = 0
    quote: str = ""  # the verbatim sentence(s) of `text` that answer the question
    context: str = ""  # a split clause's earlier subject (see Chunk.context), shown as 接上文
    ocr: bool = False  # the text was read from a scan by OCR (may hold recognition errors)
    level: str | None = None  # the document's layer of government (national/province/city/district)

    @property
    def place_label(self) -> str:
        """'山东省·省级': where the clause stands among the layers a school is governed by; the place alone when
        its level is unknown."""
        return f"{self.city}·{LEVEL_LABELS[self.level]}" if self.level in LEVEL_LABELS else self.city
    # which version was cited, so that an exported answer can be reproduced or shown to be outdated later:
    # the sha256 of the document's text, the version's date (施行, else adopted or signed; "" when unknown),
    # and the document's standing (效力) on the day the answer is about (domain/versions.py STATE_LABELS)
    doc_sha256: str = ""
    version: str = ""
    force: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status_label"] = status_label(self.status)
        d["source_label"] = OCR_LABEL if self.ocr else ""
        d["place_label"] = self.place_label
        d["force_label"] = state_label(self.force) if self.force else ""
        return d


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    notices: tuple[str, ...] = ()
    mode: str = "extractive"  # "llm" only for a generated answer that passed the checks
    cities: tuple[str, ...] = field(default=())
    # LLM mode: sentences checked, and those marked 未核实 (a quote not verbatim in its cited clause)
    sentences: int = 0
    unverified: int = 0
    # one line per city, made only of verbatim phrases of the cited sentences, each with its [n]
    # ("长沙市：合作时限一般为六年，延长原则上不超过六年[2]"); empty when no phrase qualifies
    conclusion: str = ""
    # the day whose versions answered (YYYY-MM-DD) when the question asked "as of" a day; None: those in force
    # when it was answered
    as_of: str | None = None

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "mode": self.mode,
            "cities": list(self.cities),
            "citations": [c.to_dict() for c in self.citations],
            "notices": list(self.notices),
            "sentences": self.sentences,
            "unverified": self.unverified,
            "conclusion": self.conclusion,
            "as_of": self.as_of,
        }
