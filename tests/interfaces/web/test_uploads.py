"""Uploads are removed from Gradio's upload folder once used (issue 19 item 6; RELIABILITY 30): an imported or
refused document, a charter draft read into the text box. Tab handlers called directly with a stand-in
assistant; tests/interfaces/web/test_app_guard.py checks that uploads never used are removed by the server."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.errors import IngestError
from assistant.interfaces.web import charter, library

pytestmark = pytest.mark.unit


class _Stub:
    cities = ["长沙市"]

    def __init__(self, fail: bool):
        self.fail = fail

    def ingest(self, path, **kwargs):
        if self.fail:
            raise IngestError("文件中没有识别出任何条款")
        return SimpleNamespace(action="added", title="标题", city="长沙市", clauses=3, seconds=0.1, warnings=())

    def list_documents(self):
        return []

    def read_draft(self, path):
        return open(path, encoding="utf-8").read()


@pytest.fixture
def upload(tmp_path, monkeypatch):
    folder = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    path = folder / "0123abcd" / "通知.txt"
    path.parent.mkdir(parents=True)
    path.write_text("第一条 集团章程报市教育局备案。", encoding="utf-8")
    return path


@pytest.mark.parametrize("fail", [False, True], ids=["imported", "refused"])
def test_an_uploaded_document_is_removed_after_the_import(upload, fail):
    out = library.do_ingest(_Stub(fail), str(upload), "", "长沙市", "", "", "正式文件", progress=lambda *a, **k: None)
    assert ("没有识别出任何条款" in out[0]) == fail
    assert not upload.exists() and not upload.parent.exists()


def test_an_uploaded_draft_is_removed_once_read(upload):
    text, message = charter.load_draft(_Stub(False), str(upload))
    assert text.startswith("第一条") and message == "" and not upload.exists()
