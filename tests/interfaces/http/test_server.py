"""The HTTP API on the real server (python app.py on loopback, the bundled corpus copied, the real embedder):
answers with citations, the library's upload and removal, bad input refused with nothing changed, and the web
app still served beside it."""
from __future__ import annotations

import httpx
import pytest

from tests.support.samples import ZHUZHOU, make_docx

pytestmark = pytest.mark.integration

QUESTION = "长沙集团化办学的合作期限是多久？"


def api(live) -> httpx.Client:
    return httpx.Client(base_url=live.url, timeout=120)


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


def test_ask_retrieve_and_compare_answer_with_citations(live):
    with api(live) as client:
        answer = client.post("/api/v1/ask", json={"question": QUESTION}).json()
        assert not answer["abstained"] and "合作时限一般为六年" in answer["citations"][0]["text"]
        assert answer["citations"][0]["doc_number"] == "长教通〔2020〕97号"
        none = client.post("/api/v1/ask", json={"question": "北京的集团化办学有什么规定？"}).json()
        assert none["abstained"] and none["citations"] == [] and "长沙市" in none["answer"]
        found = client.post("/api/v1/retrieve", json={"question": "教师交流轮岗", "k": 3, "cities": ["南昌市"]}).json()
        assert len(found) == 3 and {c["city"] for c in found} == {"南昌市"}
        table = client.post("/api/v1/compare", json={"question": "合作期限"}).json()
        by_city = {c["city"]: c for c in table["cities"]}
        assert by_city["长沙市"]["status"] == "specified" and by_city["长沙市"]["figures"]


def test_charter_check_from_text_and_from_a_docx(live):
    draft = "第八条 本集团合作期限为八年。\n第九条 集团每学期组织一次联考。"
    with api(live) as client:
        report = client.post("/api/v1/charter/check", json={"text": draft, "city": "长沙市"}).json()
        assert report["counts"]["conflict"] == 2 and report["score"] == 0
        files = {"file": ("章程草案.docx", make_docx(draft), "application/octet-stream")}
        same = client.post("/api/v1/charter/check", files=files, data={"city": "长沙"}).json()
        assert same["counts"] == report["counts"]
        refused(client.post("/api/v1/charter/check", json={"text": draft, "city": "北京市"}), 422, "charter_rejected")


def test_documents_and_their_clauses(live):
    with api(live) as client:
        docs = client.get("/api/v1/documents").json()
        assert len(docs) == 6 and all(d["chunks"] for d in docs)
        detail = client.get("/api/v1/documents/changsha-jituan-2020").json()
        assert any(c["clause"].endswith("限定合作时间") for c in detail["clauses"])
        health = client.get("/api/v1/health").json()
        assert health["status"] == "ok" and health["clauses"] == sum(d["chunks"] for d in docs)


def test_bad_input_is_a_clear_json_error_and_changes_nothing(live):
    before = live.state()
    with api(live) as client:
        json_type = {"content-type": "application/json"}
        refused(client.post("/api/v1/ask", content=b'{"question": ', headers=json_type), 400, "invalid_json")
        refused(client.post("/api/v1/ask", json={"cities": ["长沙市"]}), 422, "validation_error")
        refused(client.post("/api/v1/ask", json={"question": ["长沙"]}), 422, "validation_error")
        refused(client.post("/api/v1/retrieve", json={"question": "合作期限", "k": "five"}), 422, "validation_error")
        big = b'{"question": "' + b"x" * (10 * 1024 * 1024) + b'"}'
        refused(client.post("/api/v1/ask", content=big, headers=json_type), 413, "body_too_large")
        refused(client.get("/api/v1/documents/no-such-doc"), 404, "document_not_found")
        refused(client.delete("/api/v1/documents/no-such-doc"), 404, "document_not_found")
        refused(client.delete("/api/v1/documents/..%2F..%2Fmanifest.json"), 404, "not_found")  # never a path
        refused(client.post("/api/v1/documents", files={"file": ("x.pdf", b"\x00" * 64, "application/pdf")}),
                422, "ingest_rejected")
        refused(client.post("/api/v1/documents", files={"file": ("x.txt", b"x" * (21 * 1024 * 1024))}),
                413, "body_too_large")
        assert client.post("/api/v1/ask", json={"question": QUESTION}).status_code == 200  # still serving
    assert live.state() == before


def test_upload_then_delete_a_document(live):
    with api(live) as client:
        files = {"file": ("zhuzhou.txt", ZHUZHOU.encode(), "text/plain")}
        report = client.post("/api/v1/documents", files=files).json()
        assert report["action"] == "added" and report["city"] == "株洲市" and report["clauses"] > 3
        again = client.post("/api/v1/documents", files=files).json()
        assert again["action"] == "unchanged" and again["doc_id"] == report["doc_id"]
        answer = client.post("/api/v1/ask", json={"question": "株洲教育集团成员校原则上不超过几所？"}).json()
        assert answer["citations"] and answer["citations"][0]["doc_id"] == report["doc_id"]
        removed = client.delete(f"/api/v1/documents/{report['doc_id']}").json()
        assert removed["removed"] == report["clauses"]
        refused(client.get(f"/api/v1/documents/{report['doc_id']}"), 404, "document_not_found")
        assert len(client.get("/api/v1/documents").json()) == 6


def test_the_web_app_and_its_api_are_served_beside_it(live):
    from gradio_client import Client

    reply = Client(live.url + "/", verbose=False).predict(QUESTION, [], api_name="/ask")
    assert "合作时限一般为六年" in reply
    with api(live) as client:
        assert "集团化办学政策助手" in client.get("/").text
        assert client.get("/api/v1/docs").status_code == 200
        assert "/api/v1/ask" in client.get("/api/v1/openapi.json").json()["paths"]
        refused(client.get("/api/v1/no-such-route"), 404, "not_found")


def test_the_server_binds_to_loopback_only(live):
    port = int(live.url.rsplit(":", 1)[1])
    listening = []
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            listening.append(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    assert listening == ["127.0.0.1"]
