"""/api/v1 in-process over a stand-in facade: the shapes, and every kind of bad input answered with a clear
JSON error that changed nothing."""
from __future__ import annotations

import io
import re

import pytest

pytestmark = pytest.mark.unit

CJK = re.compile(r"[\u4e00-\u9fff]")


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and CJK.search(error["message"]) and set(error) == {"code", "message", "type", "param"}
    return error


def test_ask_returns_the_answer_with_its_citations(client, fake):
    data = client.post("/api/v1/ask", json={"question": "长沙的合作期限？", "cities": ["长沙市"]}).json()
    assert data["answer"].startswith("「集团化学校合作时限一般为六年。」[1]") and data["cities"] == ["长沙市"]
    assert data["citations"][0]["doc_number"] == "长教通〔2020〕97号" and data["citations"][0]["status_label"] == "正式文件"
    assert fake.calls == [("ask", "长沙的合作期限？", ["长沙市"], None)] and fake.only_place is False


def test_only_place_reaches_the_assistant_from_every_question_route(client, fake):
    for route, body in (("ask", {"question": "青岛幼儿园户外活动时间？"}), ("retrieve", {"question": "户外活动"}),
                        ("compare", {"question": "合作期限"})):
        fake.only_place = None
        assert client.post(f"/api/v1/{route}", json={**body, "only_place": True}).status_code == 200
        assert fake.only_place is True, route
    assert client.post("/api/v1/ask", json={"question": "问", "only_place": "yes"}).status_code == 422


def test_retrieve_compare_and_health(client):
    assert client.post("/api/v1/retrieve", json={"question": "合作期限", "k": 1}).json()[0]["chunk_id"] == "c1"
    cells = client.post("/api/v1/compare", json={"question": "合作期限"}).json()["cities"]
    assert [c["status"] for c in cells] == ["specified", "not_specified"] and cells[0]["figures"][0]["number"] == "六年"
    assert client.get("/api/v1/health").json() == {"status": "ok", "documents": 1, "clauses": 1,
                                                   "cities": ["南昌市", "郑州市中原区", "长沙市", "青岛市"],
                                                   "mode": "extractive"}


def test_charter_check_takes_json_or_a_file(client, fake):
    assert client.post("/api/v1/charter/check", json={"text": "第一条 章程", "city": "长沙市"}).json()["city"] == "长沙市"
    files = {"file": ("草案.txt", "第八条 合作期限为八年。".encode("gb18030"), "text/plain")}
    report = client.post("/api/v1/charter/check", files=files, data={"city": "长沙市", "group_type": "紧密型"})
    assert report.status_code == 200, report.text
    assert fake.calls[-1] == ("charter", "第八条 合作期限为八年。", "长沙市", "紧密型")


def test_charter_check_refuses_a_missing_city_a_broken_docx_and_other_media(client, fake):
    error_of(client.post("/api/v1/charter/check", json={"text": "第一条"}), 422, "validation_error")
    files = {"file": ("草案.docx", b"not a zip", "application/octet-stream")}
    error_of(client.post("/api/v1/charter/check", files=files, data={"city": "长沙市"}), 422, "charter_rejected")
    error_of(client.post("/api/v1/charter/check", files={"file": ("a.pdf", b"%PDF", "application/pdf")},
                         data={"city": "长沙市"}), 415, "unsupported_file_type")
    error_of(client.post("/api/v1/charter/check", content=b"text", headers={"content-type": "text/plain"}),
             415, "unsupported_media_type")
    error_of(client.post("/api/v1/charter/check", content=b"{", headers={"content-type": "application/json"}),
             400, "invalid_json")
    assert fake.calls == []


def test_documents_list_detail_upload_and_delete(client, fake):
    assert [d["doc_id"] for d in client.get("/api/v1/documents").json()] == ["cs"]
    detail = client.get("/api/v1/documents/cs").json()
    assert detail["clauses"] == [{"chunk_id": "c1", "clause": "三、主要举措 › 限定合作时间",
                                  "text": "限定合作时间。集团化学校合作时限一般为六年。"}]
    files = {"file": ("../../株洲方案.txt", "株洲市教育局……".encode(), "text/plain")}
    report = client.post("/api/v1/documents", files=files, data={"city": "株洲市", "status": "draft"})
    assert report.status_code == 200 and report.json()["action"] == "added"
    assert fake.calls[-1] == ("ingest", "株洲方案.txt", {"city": "株洲市", "status": "draft"}, None)
    assert client.delete("/api/v1/documents/new").json()["removed"] == 1


@pytest.mark.parametrize("body, status, code, param", [
    ('{"question": "长沙', 400, "invalid_json", None),  # malformed JSON
    ("", 422, "validation_error", None),  # no body at all
    ("[1, 2]", 422, "validation_error", None),  # not an object
    ("{}", 422, "validation_error", "question"),  # missing field
    ('{"question": 5}', 422, "validation_error", "question"),  # wrong type
    ('{"question": "长沙", "cities": "长沙市"}', 422, "validation_error", "cities"),  # a string is not a list
    ('{"question": "长沙", "city": ["长沙市"]}', 422, "validation_error", "city"),  # unknown field (a typo)
    ('{"question": "长沙", "mode": "fast"}', 422, "validation_error", "mode"),
    ('{"question": "   "}', 400, "invalid_question", None),  # the facade's own check
])
def test_bad_questions_get_a_clear_json_error_and_reach_nothing(client, fake, body, status, code, param):
    response = client.post("/api/v1/ask", content=body.encode(), headers={"content-type": "application/json"})
    assert error_of(response, status, code)["param"] == param
    assert [c for c in fake.calls if c[1].strip()] == []  # only the blank question reached the facade


def test_wrong_types_are_named_in_chinese(client):
    error = error_of(client.post("/api/v1/retrieve", json={"question": 1, "k": "5"}), 422, "validation_error")
    assert "字段 question：类型错误，应为字符串" in error["message"] and "字段 k：类型错误，应为整数" in error["message"]
    error = error_of(client.post("/api/v1/retrieve", json={"question": "合作期限", "k": 500}), 422, "validation_error")
    assert "超出范围" in error["message"]


def test_a_10_mb_body_is_refused_before_it_is_read(client, fake):
    body = b'{"question": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    error_of(client.post("/api/v1/ask", content=body, headers={"content-type": "application/json"}),
             413, "body_too_large")
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))  # no Content-Length: counted as it arrives
    error_of(client.post("/api/v1/ask", content=chunks, headers={"content-type": "application/json"}),
             413, "body_too_large")
    assert fake.calls == []


def test_an_upload_over_the_ingest_limit_is_refused(client, fake):
    files = {"file": ("big.txt", io.BytesIO(b"x" * (21 * 1024 * 1024)), "text/plain")}
    error_of(client.post("/api/v1/documents", files=files), 413, "body_too_large")
    assert fake.writes() == [] and list(fake.documents) == ["cs"]


def test_an_upload_of_another_type_or_an_empty_file_changes_nothing(client, fake):
    error_of(client.post("/api/v1/documents", files={"file": ("x.html", b"<html>", "text/html")}),
             415, "unsupported_file_type")
    error_of(client.post("/api/v1/documents", data={"city": "株洲市"}), 422, "validation_error")
    error_of(client.post("/api/v1/documents", files={"file": ("x.txt", b"", "text/plain")}), 422, "ingest_rejected")
    assert list(fake.documents) == ["cs"]


def test_an_unknown_document_is_a_404_and_nothing_is_removed(client, fake):
    error_of(client.get("/api/v1/documents/nope"), 404, "document_not_found")
    error_of(client.delete("/api/v1/documents/nope"), 404, "document_not_found")
    assert list(fake.documents) == ["cs"]


def test_unknown_paths_and_methods_are_json_404s(client):
    error_of(client.get("/api/v1/nothing"), 404, "not_found")
    error_of(client.put("/api/v1/documents"), 404, "not_found")
    error_of(client.get("/v1/engines"), 404, "not_found")


def test_an_internal_failure_is_a_500_without_details(client, fake):
    fake.list_documents = lambda: 1 / 0
    error = error_of(client.get("/api/v1/documents"), 500, "internal_error")
    assert "ZeroDivision" not in error["message"]


def test_the_schema_and_the_reference_page_are_served(client):
    spec = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/ask", "/api/v1/retrieve", "/api/v1/compare", "/api/v1/charter/check", "/api/v1/documents",
                 "/api/v1/documents/{doc_id}", "/api/v1/health", "/v1/chat/completions", "/v1/models"):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/ask"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert set(spec["paths"]["/api/v1/charter/check"]["post"]["requestBody"]["content"]) == \
        {"application/json", "multipart/form-data"}
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/ask" in page.text and "<script" not in page.text
    assert "AnswerOut" in page.text and "question" in page.text


def test_as_of_and_old_versions_reach_the_assistant(client, fake):
    body = {"question": "长沙的合作期限？", "as_of": "2023-09-01", "include_outdated": True}
    assert client.post("/api/v1/ask", json=body).status_code == 200
    assert fake.versions == ("2023-09-01", True)
    assert client.post("/api/v1/retrieve", json={"question": "合作期限"}).status_code == 200
    assert fake.versions == (None, False)
    error = error_of(client.post("/api/v1/ask", json={"question": "合作期限", "as_of": 20230901}), 422,
                     "validation_error")
    assert "字段 as_of：类型错误" in error["message"]


def test_the_diff_of_two_versions_and_a_document_without_a_newer_one(client, fake):
    data = client.get("/api/v1/documents/old/diff", params={"new": "new"}).json()
    assert data["counts"]["changed"] == 1 and data["new"]["force_label"] == "现行有效"
    assert [s["text"] for s in data["changes"][0]["segments"] if s["op"] != "equal"] == ["六", "五"]
    error = error_of(client.get("/api/v1/documents/old/diff"), 422, "version_rejected")
    assert "没有更新的版本" in error["message"]
