"""Request and response models of the HTTP API, declared once.

Responses mirror the values' `to_dict()` shapes exactly (the JSON the CLI's `--json` prints);
tests/interfaces/http/test_schemas.py fails when a value's `to_dict` and its model drift apart. Requests are
strict (no "5" for 5, no string for a list of cities) and refuse unknown fields, so a typo in a field name is
a clear 422, not a silently ignored option."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_QUESTION_CHARS = 2000  # the facade refuses above its own limit with a clearer message; this caps the body


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


Cities = list[str] | None
Mode = Literal["extractive", "llm"] | None
AsOf = Field(None, max_length=20, description="按该日期（YYYY-MM-DD）施行的版本回答；不填为今天施行的版本",
             examples=["2023-09-01"])
Outdated = Field(False, description="true：也引用已修正、已废止或已定稿的征求意见稿等旧版本（引用中标明效力）")


class AskRequest(Request):
    question: str = Field(max_length=MAX_QUESTION_CHARS, description="问题（中文）",
                          examples=["长沙集团化办学的合作期限是多久？"])
    cities: Cities = Field(None, description="只在这些城市/区县的文件中查找；不填则按问题自动识别")
    mode: Mode = Field(None, description="extractive：摘录原文；llm：大模型回答（需配置）；不填为默认模式")
    only_place: bool = Field(False, description="只用所问地方本级的文件，不含省级、国家级等上级文件")
    as_of: str | None = AsOf
    include_outdated: bool = Outdated


class RetrieveRequest(Request):
    question: str = Field(max_length=MAX_QUESTION_CHARS, examples=["教师交流轮岗"])
    k: int = Field(5, ge=1, le=50, description="返回条款数")
    cities: Cities = None
    only_place: bool = Field(False, description="只用所问地方本级的文件，不含上级文件")
    as_of: str | None = AsOf
    include_outdated: bool = Outdated


class CompareRequest(Request):
    question: str = Field(max_length=MAX_QUESTION_CHARS, description="问题或主题，如“退出与终止”",
                          examples=["各地对成员校退出有什么不同规定？"])
    cities: Cities = Field(None, description="参与对比的城市；不填则为问题中的城市或全部城市")
    only_place: bool = Field(False, description="每个城市只用本级文件，不含上级文件")
    as_of: str | None = AsOf
    include_outdated: bool = Outdated


class CharterCheckRequest(Request):
    text: str = Field(max_length=2_000_000, description="章程草案全文")
    city: str = Field(max_length=100, examples=["长沙市"])
    group_type: str | None = Field(None, max_length=100, description="集团类型，如 紧密型；不填则从草案识别")


# ---------------------------------------------------------------- responses: the values' to_dict shapes

class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CitationOut(Response):
    chunk_id: str
    doc_id: str
    title: str
    city: str
    doc_number: str | None
    clause: str
    status: str
    status_label: str
    text: str
    score: float
    n: int
    quote: str
    context: str = ""  # for a later piece of a split clause: the subject set before it (接上文)
    ocr: bool = False  # the clause was read from a scan by OCR
    source_label: str = ""  # "OCR 识别" for such clauses
    level: str | None = None  # the document's layer: national / province / city / district
    place_label: str = ""  # "山东省·省级": the place and its layer
    doc_sha256: str = ""  # the cited document's text hash, so an exported answer can be checked later
    version: str = ""  # the cited version's date (施行, else adopted or signed)
    force: str = ""  # its standing on the answer's day: in_force, amended, repealed, draft …
    force_label: str = ""  # 现行有效 / 已修正 / 已废止 …


class AnswerOut(Response):
    question: str
    answer: str
    abstained: bool
    mode: str
    cities: list[str]
    citations: list[CitationOut]
    notices: list[str]
    sentences: int
    unverified: int
    conclusion: str
    as_of: str | None = None  # the day whose versions answered (YYYY-MM-DD); None: those in force today


class FigureOut(Response):
    text: str
    number: str
    value: float | None
    unit: str
    n: int


class CityCellOut(Response):
    city: str
    status: Literal["specified", "not_specified"]
    reason: str
    citations: list[CitationOut]
    figures: list[FigureOut]


class ComparisonOut(Response):
    topic: str
    topic_key: str | None
    question: str
    cities: list[CityCellOut]
    notices: list[str]
    as_of: str | None = None


class SourceOut(Response):
    doc_id: str
    clause: str
    quote: str
    title: str
    doc_number: str | None
    status: str
    citation: str


class ParameterOut(Response):
    name: str
    op: str
    value: float
    unit: str
    units: list[tuple[str, float]]
    near: list[str]
    exclude: list[str]
    scale: list[tuple[str, float]]
    description: str


class ExemptionOut(Response):
    any: list[str]
    unless: list[str]


class RequirementOut(Response):
    id: str
    jurisdiction: str
    kind: str
    kind_label: str
    topic: str
    summary: str
    source: SourceOut
    cues: list[list[str]]
    draft: str
    applies_to: list[str]
    condition: str
    parameter: ParameterOut | None
    conflict_cues: list[list[str]]
    exempt: ExemptionOut | None
    exclude: list[str]
    min_groups: int
    provisional: bool
    review: str = ""  # why the requirement needs review (需复核): its source clause changed in a newer version
    current_text: str = ""  # the source clause's wording in the version in force
    updated_from: str = ""  # the document the requirement was written from, when it now cites a newer version
    review_label: str = ""  # 需复核 when `review` is set


class RequirementResultOut(Response):
    id: str
    status: Literal["met", "missing", "conflict"]
    status_label: str
    evidence: str
    note: str
    requirement: RequirementOut


class CharterReportOut(Response):
    city: str
    group_type: str | None
    provisional: bool
    score: int
    passed: bool
    counts: dict[str, int]
    summary: str
    notices: list[str]
    results: list[RequirementResultOut]


class DocumentOut(Response):
    doc_id: str
    title: str
    city: str
    status: str
    short_title: str | None
    issuer: str | None
    doc_number: str | None
    date: str | None
    file: str
    source: str | None
    original_name: str | None
    sha256: str | None
    ingested_at: str | None
    interprets: str | None
    chunks: int | None
    ingested: bool
    ocr: dict | None = None  # how the text was read by OCR (confidence, pages, low-confidence pages)
    level: Literal["national", "province", "city", "district"] | None = None  # the layer of government
    place_code: str | None = None  # the division code of `city` (100000 for 全国)
    adopted_date: str | None = None
    effective_date: str | None = None
    validity: Literal["trial", "interim", "repealed"] | None = None
    history: list[str] = []  # "2016-05-27 修订", oldest first
    expiry_date: str | None = None
    supersedes: str | None = None  # the previous version's doc_id
    superseded_by: str | None = None  # the next version's doc_id
    force: str = ""  # its standing today: in_force, amended, repealed, draft, finalised …
    force_label: str = ""  # 现行有效 / 已修正 / 已废止 / 征求意见稿 …


class ClauseOut(Response):
    chunk_id: str
    clause: str
    text: str


class DocumentDetailOut(DocumentOut):
    clauses: list[ClauseOut]


class IngestReportOut(Response):
    doc_id: str
    action: Literal["added", "versioned", "replaced", "updated", "unchanged"]
    title: str
    city: str
    status: str
    clauses: int
    embedded: int
    added: int
    removed: int
    seconds: float
    warnings: list[str]
    ocr: dict | None = None
    supersedes: str | None = None  # the version this import superseded (kept, as 已修正)
    superseded_by: str | None = None  # the newer version already present, when an older one was imported
    level: Literal["national", "province", "city", "district"] | None = None
    place_code: str | None = None


class SegmentOut(Response):
    op: Literal["equal", "delete", "insert"]
    text: str


class ClauseChangeOut(Response):
    kind: Literal["added", "removed", "changed", "unchanged"]
    kind_label: str
    old: str | None  # where the clause stood in the old version; None when added
    new: str | None
    label: str
    old_text: str
    new_text: str
    similarity: float
    renumbered: bool
    moved: bool
    segments: list[SegmentOut]  # a changed clause's text with the deleted and inserted characters marked


class VersionSideOut(Response):
    doc_id: str
    title: str | None
    city: str | None
    doc_number: str | None
    status: str | None
    effective_date: str | None
    adopted_date: str | None
    date: str | None
    force: str | None
    force_label: str | None
    sha256: str | None
    version: str


class VersionDiffOut(Response):
    old: VersionSideOut
    new: VersionSideOut
    counts: dict[str, int]
    summary: str
    changes: list[ClauseChangeOut]


class RemoveReportOut(Response):
    doc_id: str
    title: str
    removed: int
    seconds: float


class HealthOut(Response):
    status: Literal["ok"]
    documents: int
    clauses: int
    cities: list[str]
    mode: str


class ErrorBody(Response):
    code: str = Field(description="稳定的错误代码，如 invalid_json、validation_error、document_not_found")
    message: str = Field(description="中文说明")
    type: str = Field(description="错误类别（与 OpenAI 的错误格式兼容）")
    param: str | None = Field(None, description="出错的字段")


class ErrorOut(Response):
    error: ErrorBody


def clause_dict(chunk) -> dict:
    """A clause as GET /documents/{id} and the CLI's `docs show --json` give it."""
    return {"chunk_id": chunk.chunk_id, "clause": chunk.clause, "text": chunk.text}
