"""The 对比, 章程, 文档库 and 评测 handlers with stand-ins for the assistant: lists read per session, several
files imported with a result each and the form cleared, exports named after what they hold, the evaluation
compared with the previous run, and feedback exported as candidate gold items."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from assistant.corpus.plan import DocumentInfo, IngestReport, RemoveReport
from assistant.domain.values import Answer
from assistant.errors import IngestError
from assistant.interfaces.web import compare, evaluation, library
from assistant.interfaces.web.common import Downloads
from assistant.interfaces.web.store import Store

from tests.interfaces.web.test_views import _citation
from tests.render.test_overview import MATRIX

pytestmark = pytest.mark.unit


def offered(button) -> Path:
    """The file a DownloadButton update offers (Gradio turns the path into its file record)."""
    value = button.value
    return Path(value["path"] if isinstance(value, dict) else value)


class FakeLibrary:
    """Documents in memory; a file whose name starts with "bad" cannot be read."""

    def __init__(self):
        self.docs = {"cs": DocumentInfo("cs", "长沙意见", "长沙市", "official")}
        self.ingested = []

    @property
    def cities(self):
        return sorted({d.city for d in self.docs.values()})

    def list_documents(self):
        return list(self.docs.values())

    def preview(self, path, filename=None):
        if filename.startswith("bad"):
            raise IngestError(f"无法解析 {filename}")
        meta = SimpleNamespace(title=f"{filename}的标题", city="株洲市", doc_number=None, date=None, status="official")
        return SimpleNamespace(metadata=meta, action="add", filename=filename, format="txt", characters=10, pages=None,
                               clauses=("一、总则",), missing=(), warnings=(), replaces=None)

    def ingest(self, path, filename=None, overrides=None, progress=None):
        self.preview(path, filename)
        self.ingested.append((filename, overrides))
        doc_id = Path(filename).stem
        self.docs[doc_id] = DocumentInfo(doc_id, overrides.get("title", filename), overrides.get("city", "株洲市"),
                                         "official")
        return IngestReport(doc_id, "added", filename, "株洲市", "official", 3, 3, 3, 0, 0.5)

    def remove_document(self, doc_id):
        info = self.docs.pop(doc_id)
        return RemoveReport(doc_id, info.title, 3, 0.2)


def test_the_lists_are_read_when_asked_so_a_new_session_sees_a_new_document():
    fake = FakeLibrary()
    table, picker, chat_cities, compare_cities, charter_city, meta_city = library.refresh(fake)
    assert picker.choices == [("长沙意见（长沙市）", "cs")] and compare_cities.value == ["长沙市"]
    fake.docs["zz"] = DocumentInfo("zz", "株洲方案", "株洲市", "official")  # imported in another session
    table, picker, chat_cities, compare_cities, charter_city, meta_city = library.refresh(fake)
    assert ("株洲方案（株洲市）", "zz") in picker.choices and [c[0] for c in chat_cities.choices] == ["株洲市", "长沙市"]
    assert not chat_cities.value and charter_city.value is None  # no value left outside the new choices
    assert len(table.value["data"]) == 2


def test_several_files_import_with_a_result_each_and_the_form_clears(tmp_path):
    fake = FakeLibrary()
    files = [str(tmp_path / name) for name in ("a.txt", "bad.pdf", "b.txt")]
    info, title, city, number, date, status, button = library.preview_upload(fake, files)
    assert "已选择 3 个文件" in info and "无法解析 bad.pdf" in info and button.interactive is True
    assert title == "" and city is None  # several files: each keeps its own detected title and city
    out = library.do_ingest(fake, files, "忽略的标题", "株洲市", "忽略的文号", "", "正式文件", progress=lambda *a, **k: None)
    message = out[0]
    assert "共 3 个文件，成功 2 个" in message and "无法解析 bad.pdf" in message and "未导入" in message
    assert [name for name, _ in fake.ingested] == ["a.txt", "b.txt"]
    assert fake.ingested[0][1] == {"city": "株洲市", "status": "official"}  # only city and status apply to all
    table, picker, *cities = out[1:7]
    assert ("a.txt（株洲市）", "a") in picker.choices
    upload, preview, title, number, date, status, button = out[7:]
    assert upload.value is None and preview == "" and title == "" and button.interactive is False


def test_one_file_keeps_its_edited_metadata_and_removal_clears_the_form(tmp_path):
    fake = FakeLibrary()
    path = str(tmp_path / "one.txt")
    info, title, city, *_ = library.preview_upload(fake, [path])
    assert "one.txt" in info and title == "one.txt的标题" and city == "株洲市"
    out = library.do_ingest(fake, [path], "改过的标题", "株洲市", "株教发〔2023〕12号", "2023-05-01", "正式文件",
                            progress=lambda *a, **k: None)
    assert "已导入" in out[0] and fake.ingested[0][1]["title"] == "改过的标题"
    assert fake.ingested[0][1]["doc_number"] == "株教发〔2023〕12号"
    assert "请先勾选" in library.do_remove(fake, "one", False, progress=lambda *a, **k: None)[0]
    out = library.do_remove(fake, "one", True, progress=lambda *a, **k: None)
    assert "已删除" in out[0] and out[1] is False and out[2] == ""
    assert ("改过的标题（株洲市）", "one") not in out[4].choices and out[-1].interactive is False


def test_a_citation_link_opens_its_clause_in_the_reader():
    class Reader(FakeLibrary):
        def document(self, doc_id):
            return self.docs[doc_id]

        def document_clauses(self, doc_id):
            return [SimpleNamespace(clause="一、总则", text="正文", chunk_id="k1"),
                    SimpleNamespace(clause="二、任务", text="正文", chunk_id="k2")]

    tabs, table, picker, view = library.open_clause(Reader(), "cs|k2|1700000000")
    assert tabs.selected == "library" and picker.value == "cs" and ("长沙意见（长沙市）", "cs") in picker.choices
    assert 'pa-focus" id="clause-k2"' in view
    assert library.open_clause(Reader(), "")[0] == gr.skip()


def test_exports_are_named_after_the_topic_and_the_overview_exports_xlsx_and_markdown():
    comparison = SimpleNamespace(topic="合作/期限", to_markdown=lambda: "# md", to_csv=lambda: "a,b")
    fake = SimpleNamespace(compare=lambda text, cities=None: comparison, compare_matrix=lambda cities=None: MATRIX)
    downloads = Downloads()
    from unittest.mock import patch

    with patch.object(compare.views, "comparison_html", lambda c: "<div></div>"):
        _, md, csv = compare.run_compare(fake, downloads, "合作期限", "", ["长沙市", "青岛市"])
    assert offered(md).name.startswith("对比-合作-期限-") and offered(csv).suffix == ".csv"
    _, md, xlsx = compare.run_matrix(fake, downloads, [], progress=lambda *a, **k: None)
    assert offered(xlsx).name.startswith("主题总览-2个主题×2个城市-") and offered(xlsx).suffix == ".xlsx"
    assert offered(xlsx).read_bytes()[:2] == b"PK" and "## 合作期限" in offered(md).read_text(encoding="utf-8")
    assert "至少选择两个城市" in compare.run_compare(fake, downloads, "合作期限", "", ["长沙市"])[0]


def _runs(tmp_path):
    runs = tmp_path / "eval-runs"
    for name, recall, seconds in (("20250101-090000", 0.8, 12.0), ("20250102-090000", 0.9, 6.0)):
        folder = runs / name
        folder.mkdir(parents=True)
        metrics = {"all": {"headline": {"recall_at_5": recall, "ask_p95_ms": 90.0}, "answers": {"items": 6}},
                   "splits": {"heldout": {"headline": {"recall_at_5": 1.0}}}}
        (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
        (folder / "config.json").write_text(json.dumps({"seconds": seconds, "items": 6}), encoding="utf-8")
    from PIL import Image

    Image.new("RGB", (4, 4)).save(runs / "20250102-090000" / "chart.png")
    return runs


def test_the_metrics_are_named_in_chinese_and_compared_with_the_run_before(tmp_path):
    from assistant.interfaces.facade import Assistant

    _runs(tmp_path)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("{}\n" * 12, encoding="utf-8")
    fake = SimpleNamespace(settings=SimpleNamespace(data_dir=tmp_path, eval_gold=gold),
                           last_evaluation=Assistant.last_evaluation)
    intro, table, chart = evaluation.show_last(fake, Downloads())
    assert "共 12 题" in intro and "上次每题约 1.00 秒" in intro and "预计本次约 12 秒" in intro
    assert "与再上一次（20250101-090000）比较" in table and "+0.100 变好" in table
    assert "全部题·前5条命中率" in table and "recall@5" not in table and "MRR" not in table
    assert chart.visible is True and "eval-runs" not in str(offered(chart))  # served from a copy, not data_dir
    rows = {r["name"]: r for r in evaluation.metric_rows(json.loads(
        (tmp_path / "eval-runs/20250102-090000/metrics.json").read_text()), None)}
    assert rows["全部题·前5条命中率"]["before"] == "—" and rows["全部题·前5条命中率"]["heldout"] == "1.000"
    assert all(r["help"] for r in rows.values()) and len(rows) == len(evaluation.METRICS)
    # lower is better for latency
    faster = evaluation.metric_rows({"all": {"headline": {"ask_p95_ms": 50.0}}},
                                    {"all": {"headline": {"ask_p95_ms": 90.0}}})
    assert next(r for r in faster if r["name"].startswith("回答耗时"))["change"] == "-40.000 变好"
    empty = SimpleNamespace(settings=SimpleNamespace(data_dir=tmp_path / "none", eval_gold=gold),
                            last_evaluation=Assistant.last_evaluation)
    assert "首次运行" in evaluation.estimate(empty)


def test_the_evaluator_lists_feedback_and_exports_the_thumbs_down_as_gold_candidates(tmp_path):
    store = Store(tmp_path / "app.sqlite3")
    owner = "browser:" + "a" * 32
    conversation = store.create(owner, "q")
    answer = Answer(question="长沙的合作期限？", answer="「合作时限一般为六年。」[1]", abstained=False,
                    citations=(_citation(),), cities=("长沙市",))
    for seq, rating in enumerate(("up", "down")):
        store.add_turn(owner, conversation, answer.question, answer=answer)
        store.rate(owner, conversation, seq, rating, "c0ffee")
    store.comment(owner, conversation, 1, ["答案不完整"], "<script>alert(1)</script>少了延长")
    listed = evaluation.list_feedback(store, "踩（有问题）", "全部原因", "")
    assert "共 1 条反馈" in listed and "<script>" not in listed and "&lt;script&gt;" in listed
    assert "共 2 条反馈" in evaluation.list_feedback(store, "全部", "全部原因", "")
    message, download = evaluation.export_candidates(store, Downloads(), "全部原因", "")
    assert "1 道候选评测题" in message and offered(download).suffix == ".jsonl"
    [item] = [json.loads(line) for line in offered(download).read_text(encoding="utf-8").splitlines()]
    assert item["question"] == "长沙的合作期限？" and item["review"]["reasons"] == ["答案不完整"]
    assert item["expected"][0]["clause"] == "三、主要举措 › 限定合作时间"
    assert "没有符合条件" in evaluation.export_candidates(store, Downloads(), "不该回答", "")[0]
