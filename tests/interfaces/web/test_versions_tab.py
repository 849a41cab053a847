"""The library tab's 版本对比 handlers with the real assistant over a corpus holding the 中原区 draft and its edited
final text (built in the test through the library, index update stubbed out: comparing versions needs no index)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant import Assistant
from assistant.interfaces.web import library
from tests.support.library import no_index
from tests.support.versions import DRAFT_ID, FINAL_EFFECTIVE, write_final

pytestmark = pytest.mark.unit


@pytest.fixture
def versioned(corpus_copy, tmp_path):
    a = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "index")
    final = a.library.add(write_final(corpus_copy, tmp_path), no_index,
                          overrides={"effective_date": FINAL_EFFECTIVE})
    return a, final.doc_id


def test_the_draft_is_compared_with_its_final_text_by_default(versioned):
    a, final = versioned
    picker = library.version_choices(a, DRAFT_ID)
    assert picker.value == final and [v for _, v in picker.choices] == [final]
    page = library.show_diff(a, DRAFT_ID, picker.value)
    assert "修改 2 条、新增 1 条、删除 0 条" in page
    assert '<del class="pa-diff-del">年</del><ins class="pa-diff-ins">学期</ins>' in page


def test_a_document_without_versions_says_what_to_do(versioned):
    a, _ = versioned
    assert library.version_choices(a, "changsha-jituan-2020").choices == []
    assert "没有更新的版本" in library.show_diff(a, "changsha-jituan-2020", None)
    assert "请先在上方选择一个文档" in library.show_diff(a, None, None)


def test_an_upload_recognised_as_a_new_version_names_its_predecessor(corpus_copy, tmp_path):
    a = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "index")
    final = write_final(corpus_copy, tmp_path)
    picker = library.version_target(a, [str(final)])
    assert picker.value == DRAFT_ID and DRAFT_ID in [v for _, v in picker.choices]
    other = tmp_path / "其他.txt"
    other.write_text("株洲市教育局关于推进集团化办学的通知\n一、各校应当加强管理。\n", encoding="utf-8")
    assert library.version_target(a, [str(other)]).value is None
    assert library.version_target(a, [str(final), str(other)]).choices == []  # several files: nothing to choose


def test_the_chosen_predecessor_reaches_the_import_for_one_file_only(tmp_path):
    class Stub:
        cities = ["郑州市中原区"]

        def __init__(self):
            self.calls = []

        def ingest(self, path, **kwargs):
            self.calls.append(kwargs.get("supersedes"))
            return SimpleNamespace(action="versioned", title="t", city="郑州市中原区", clauses=3, seconds=0.1,
                                   warnings=())

        def list_documents(self):
            return []

    paths = [tmp_path / "a.txt", tmp_path / "b.txt"]
    for path in paths:
        path.write_text("一、总则。", encoding="utf-8")
    stub = Stub()
    out = library.do_ingest(stub, [str(paths[0])], "", "", "", "", "正式文件", DRAFT_ID, progress=lambda *a, **k: None)
    assert stub.calls == [DRAFT_ID] and "已作为新版本导入" in out[0]
    library.do_ingest(stub, [str(p) for p in paths], "", "", "", "", "正式文件", DRAFT_ID,
                      progress=lambda *a, **k: None)
    assert stub.calls[1:] == [None, None]
