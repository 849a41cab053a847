"""The API's response models are the values' `to_dict()` shapes, key for key: a field added to a value (or
dropped) without its model fails here, not as a 500 in production."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from assistant.charter.check import check_charter
from assistant.charter.requirements import load_book
from assistant.charter.skeleton import build_skeleton
from assistant.config import Settings
from assistant.corpus.library import Library
from assistant.corpus.plan import IngestReport, RemoveReport
from assistant.domain.values import Answer
from assistant.interfaces.http import schemas
from assistant.interfaces.http.mcp_server import Citations, ClauseMatch, Documents
from tests.conftest import CORPUS
from tests.support.fake_assistant import CITE, CLAUSE, FakeAssistant

pytestmark = pytest.mark.unit

DRAFT = """第一条 本集团由长沙市某中学牵头组建。
第八条 本集团合作期限为八年。
第九条 集团每学期组织一次联考。
第十条 成员校可更名为“XX集团XX校”。"""


def same_shape(model, data: dict) -> None:
    """`data` validates against `model` and comes back unchanged through it (as JSON)."""
    parsed = model.model_validate(data)
    assert json.loads(parsed.model_dump_json()) == json.loads(json.dumps(data))


def test_answers_citations_and_comparisons(tmp_path):
    answer = Answer("问题", "回答[1]", False, (CITE,), ("提示",), "llm", ("长沙市",), 3, 1, "长沙市：六年[1]")
    same_shape(schemas.AnswerOut, answer.to_dict())
    same_shape(schemas.CitationOut, CITE.to_dict())
    same_shape(schemas.ComparisonOut, FakeAssistant(tmp_path).compare("合作期限").to_dict())
    same_shape(Citations, {"citations": [CITE.to_dict()]})


def test_charter_reports_with_every_kind_of_requirement():
    book = load_book(CORPUS)
    outline = build_skeleton(book, "长沙市").to_markdown().splitlines()  # a compliant draft: every result met
    report = check_charter(book, "\n".join(outline[: len(outline) // 2]) + "\n" + DRAFT, "长沙市")
    data = report.to_dict()
    assert {r["status"] for r in data["results"]} == {"met", "missing", "conflict"}
    assert any(r["requirement"]["parameter"] for r in data["results"])  # numeric limits, with their units
    same_shape(schemas.CharterReportOut, data)
    for city in ("南昌市", "青岛市", "郑州市中原区"):  # other cities' books use exemptions and group types
        same_shape(schemas.CharterReportOut, check_charter(load_book(CORPUS), DRAFT, city).to_dict())


def test_documents_clauses_and_reports():
    docs = Library(Settings(corpus_dir=CORPUS, index_dir=CORPUS / "unused")).documents({"x": 1})
    for info in docs:
        same_shape(schemas.DocumentOut, info.to_dict())
        same_shape(schemas.DocumentDetailOut, {**info.to_dict(), "clauses": [schemas.clause_dict(CLAUSE)]})
    same_shape(Documents, {"documents": [d.to_dict() for d in docs]})
    same_shape(ClauseMatch, {"document": docs[0].to_dict(), "clauses": [schemas.clause_dict(CLAUSE)]})
    same_shape(schemas.IngestReportOut, IngestReport("d", "replaced", "t", "c", "draft", 3, 2, 3, 1, 0.5,
                                                     ("提示",)).to_dict())
    same_shape(schemas.IngestReportOut, IngestReport("d", "added", "t", "青岛市", "official", 3, 2, 3, 0, 0.5,
                                                     level="city", place_code="370200").to_dict())
    levels = {d.level for d in docs}
    assert levels == {"city", "district"}  # the bundled documents' layers, looked up from their cities
    same_shape(schemas.RemoveReportOut, RemoveReport("d", "t", 3, 0.2).to_dict())


def test_a_key_the_model_does_not_declare_fails():
    with pytest.raises(ValidationError):
        same_shape(schemas.CitationOut, {**CITE.to_dict(), "page": 3})
    without = CITE.to_dict()
    del without["quote"]
    with pytest.raises(ValidationError):
        same_shape(schemas.CitationOut, without)


def test_version_diffs():
    from assistant.chunking.diff import VersionDiff, diff_texts
    from tests.support.versions import final_text

    draft = (CORPUS / "docs" / "zhongyuan-jituan-draft.txt").read_text(encoding="utf-8")
    side = {"doc_id": "a", "title": "t", "city": "郑州市中原区", "doc_number": None, "status": "draft",
            "effective_date": None, "adopted_date": None, "date": None, "force": "finalised",
            "force_label": "征求意见稿（已定稿）", "sha256": None, "version": ""}
    diff = VersionDiff(side, {**side, "doc_id": "b"}, diff_texts(draft, final_text(CORPUS)))
    same_shape(schemas.VersionDiffOut, diff.to_dict())
