"""OCR of scanned PDFs and PNG/JPEG images (RELIABILITY.md item 31): scans made here from real policy text,
read back, re-flowed like text PDFs, marked as OCR on the document and its citations; and the bad input
(no text, too many pages, huge dimensions, a page on its side, low confidence) refused clearly within the
limits. Tests that run the recognition model are marked integration; the rest never load it."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from reportlab.lib.pagesizes import A5, A6

from assistant.config import Settings
from assistant.corpus.extract import Expired, Limits, extract, page_text, pdf_text, read_messages
from assistant.corpus.ocr import Piece, assemble, spaced
from assistant.domain.progress import report
from assistant.errors import IngestError
from tests.conftest import CORPUS, fresh_index
from tests.support import scans
from tests.support.samples import ZHUZHOU, make_scanned_pdf

pytestmark = pytest.mark.unit  # tests marked integration below override it

LIMITS = Limits.of(Settings.from_env(corpus_dir=CORPUS, index_dir="/nonexistent"))
# the first clauses of the 株洲 plan and its signature: one A5 page
SHORT = "\n".join(ZHUZHOU.strip().split("\n")[:7] + ZHUZHOU.strip().split("\n")[-2:])
# printed as regulations are: a full-width space after 第X条 (read back as a space)
ROTATED = "集团化办学管理办法\n第一条\u3000教育集团实行理事会领导下的总校长负责制。\n第二条\u3000集团内教师交流轮岗比例每年不低于百分之十五。"


def _fake_page(lines, confidence=0.98, rotation=0) -> dict:
    return {"lines": list(lines), "confidence": confidence, "characters": sum(len(x) for x in lines),
            "rotation": rotation}


# ---------------------------------------------------------------- text assembly (no model)

def test_a_wide_step_between_recognised_characters_is_a_space():
    assert spaced("第一条为了保障", [0, 5, 10, 22, 27, 32, 37]) == "第一条 为了保障"
    assert spaced("第一条为了保障", [0, 5, 10, 16, 21, 26, 31]) == "第一条为了保障"
    assert spaced("短", [0]) == "短"
    assert spaced("二、主要任务", [0, 5, 14, 19, 24, 29]) == "二、主要任务"  # 、 is drawn small, not a space


def test_pieces_become_lines_rules_are_dropped_and_indented_articles_get_their_space():
    pieces = [
        Piece(300, 10, 700, 50, "株洲市教育局文件", 0.99),
        Piece(100, 80, 1000, 84, "一一一一一一一一", 0.9),  # the red rule under the header, read as text
        Piece(400, 100, 600, 130, "株教发〔2023】12号", 0.97),
        Piece(200, 150, 1000, 180, "第一条为了推动义务教育优质均衡发展，", 0.98),  # indented two characters
        Piece(100, 200, 1000, 230, "第二条规定的经费，按集团考核结果分配", 0.98),  # a continuation: not indented
        Piece(100, 250, 500, 280, "专款专用。", 0.98),
        Piece(700, 252, 1000, 282, "附件略。", 0.98),  # same line, across a wide gap
        Piece(100, 300, 1000, 330, "第三条本办法自发布之日起施行。", 0.98),  # opens a paragraph: the line before ended one
    ]
    assert assemble(pieces) == ["株洲市教育局文件", "株教发〔2023〕12号", "第一条 为了推动义务教育优质均衡发展，",
                                "第二条规定的经费，按集团考核结果分配", "专款专用。 附件略。", "第三条 本办法自发布之日起施行。"]


def test_ocr_pages_go_through_the_same_header_footer_and_reflow_as_text_pdf_pages():
    pages = [["集团化办学政策文件汇编", "一、总体目标", "到2025年，全市义务教育阶段集团化办学覆盖率达",
              "到80%以上，每个教育集团成员校原则上不超过6所。", "一 1 一"],
             ["集团化办学政策文件汇编", "二、主要任务", "集团内学校每学期至少开展4次联合教研活动，共建共享",
              "优质课程资源库。", "一 2 一"]]
    as_text_layer = pdf_text(["\n".join(p) for p in pages])[0]
    result = {"pages": ["", ""], "ocr": {"0": _fake_page(pages[0]), "1": _fake_page(pages[1])}}
    text, warnings, ocr = page_text(result, "pdf", 0.8)
    assert text == as_text_layer == (
        "一、总体目标\n到2025年，全市义务教育阶段集团化办学覆盖率达到80%以上，每个教育集团成员校原则上不超过6所。\n"
        "二、主要任务\n集团内学校每学期至少开展4次联合教研活动，共建共享优质课程资源库。")
    assert ocr.pages == 2 and ocr.confidence == pytest.approx(0.98) and "OCR" in warnings[0]


def test_a_title_set_over_two_lines_is_one_line_again_and_body_lines_are_not_taken_for_one():
    from assistant.corpus.extract import reflow

    assert reflow(["株洲市教育局关于推进义务教育集团", "化办学的实施方案", "株教发〔2023〕12号", "一、总体目标",
                   "推进集团化办学", "工作方案"]) == [
        "株洲市教育局关于推进义务教育集团化办学的实施方案", "株教发〔2023〕12号", "一、总体目标", "推进集团化办学",
        "工作方案"]


def test_low_confidence_pages_are_reported_and_left_out_and_a_scan_of_only_those_is_refused():
    good = ["第一条 教育集团实行理事会领导下的总校长负责制。"]
    garbage = ["旧闩刂亻丬冫氵灬", "丨丿乀乁乂乄乆乇"]
    result = {"pages": ["", "", ""], "ocr": {"0": _fake_page(good, 0.97), "1": _fake_page(garbage, 0.41),
                                             "2": _fake_page([], 0.0)}}
    text, warnings, ocr = page_text(result, "pdf", 0.8)
    assert text == good[0] and "闩" not in text
    assert ocr.low_confidence_pages == (2,) and ocr.pages == 1
    assert any("第 2 页文字识别置信度过低（0.41）" in w for w in warnings)
    assert any("第 3 页没有文字层，也没有识别出文字" in w for w in warnings)
    with pytest.raises(IngestError, match=r"置信度过低（最高 0.41，需要 ≥ 0.80）"):
        page_text({"pages": [""], "ocr": {"0": _fake_page(garbage, 0.41)}}, "png", 0.8)
    with pytest.raises(IngestError, match="图片中没有识别出文字"):
        page_text({"pages": [""], "ocr": {"0": _fake_page([], 0.0)}}, "png", 0.8)


def test_a_document_partly_read_by_ocr_says_which_pages_and_that_they_were_turned():
    layer = "第一条 本办法适用于全市义务教育阶段的教育集团，集团章程报市教育局备案。"
    result = {"pages": [layer, ""], "ocr": {"1": _fake_page(["第二条 本办法自发布之日起施行。"], 0.95, 90)}}
    text, warnings, ocr = page_text(result, "pdf", 0.8)
    assert text == layer + "\n第二条 本办法自发布之日起施行。"
    assert (ocr.pages, ocr.rotated_pages) == (1, (2,))
    assert "第 2 页的文字由 OCR 识别" in warnings[0] and "第 2 页是横置或倒置的" in warnings[-1]


def test_progress_callbacks_with_and_without_a_stage_both_hear_of_pages():
    heard = []
    report(lambda done, total: heard.append((done, total)), 1, 3, "ocr")
    report(lambda done, total, stage="embed": heard.append((done, total, stage)), 2, 3, "ocr")
    report(None, 3, 3, "ocr")
    assert heard == [(1, 3), (2, 3, "ocr")]


def test_an_image_bomb_whose_header_the_parent_cannot_read_is_refused_by_the_child_before_decoding(monkeypatch):
    import assistant.corpus.ocr as ocr_module

    monkeypatch.setattr(ocr_module, "image_size", lambda data: None)  # only in this process: the child still checks
    with pytest.raises(IngestError, match="图片尺寸异常巨大（100000×100000 像素"):
        extract(scans.png_bomb(), "bomb.png", LIMITS)


def test_image_dimensions_are_read_from_the_header_alone():
    from PIL import Image

    from assistant.corpus.ocr import image_size

    assert image_size(scans.png_bomb(123_456, 7)) == (123_456, 7)
    assert image_size(scans.jpeg_bomb(60_000, 50_000)) == (60_000, 50_000)
    photo = scans.image_bytes(Image.new("RGB", (640, 480), "white"), "JPEG", dpi=300)  # JFIF and density first
    assert image_size(photo) == (640, 480)
    assert image_size(b"\xff\xd8\xff\xe0\x00") is None and image_size(b"GIF89a") is None


def test_ocr_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ASSISTANT_OCR_MAX_PAGES", "7")
    settings = Settings.from_env(corpus_dir=CORPUS, index_dir="/nonexistent")
    assert settings.ocr_max_pages == 7 and Limits.of(settings).ocr_max_pages == 7


# ---------------------------------------------------------------- bad input refused before OCR (no model)

@pytest.mark.parametrize("data,name,message", [
    (scans.png_bomb(), "bomb.png", "图片尺寸异常巨大（100000×100000 像素"),
    (scans.jpeg_bomb(), "bomb.jpg", "图片尺寸异常巨大（60000×60000 像素"),
    (scans.blank_pages_pdf(1, (14400, 14400)), "poster.pdf", "第 1 页尺寸异常巨大"),
    (scans.blank_pages_pdf(500), "scan500.pdf", "有 500 页需要文字识别（OCR），超过上限 50 页"),
    (b"GIF89a" + b"\x00" * 100, "scan.png", "只支持 PNG 和 JPEG"),
    ("一、总体要求".encode("utf-8"), "scan.jpg", "签名不符"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "broken.png", "无法解码"),
], ids=["png-bomb", "jpeg-bomb", "huge-pdf-page", "500-page-scan", "gif-as-png", "text-as-jpg", "corrupt-png"])
def test_bad_images_and_scans_are_refused_fast_with_one_clear_line(data, name, message, monkeypatch):
    import assistant.corpus.ocr as ocr_module

    monkeypatch.setattr(ocr_module.Reader, "__init__", lambda *a: pytest.fail("the model was loaded"))
    started = time.monotonic()
    with pytest.raises(IngestError, match=message) as err:
        extract(data, name, LIMITS)
    assert "\n" not in str(err.value) and time.monotonic() - started < 20


def _child(script: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)


_ANNOUNCE = "import json, sys, time; print(json.dumps({'event': 'ocr', 'pages': 2}), flush=True); "


def test_ocr_gets_the_page_time_budget_and_is_stopped_beyond_it():
    """The deadline is `timeout` until the child announces its pages, then `timeout + pages × ocr_page_seconds`
    from then on, and no more."""
    limits = Limits(LIMITS.max_bytes, LIMITS.max_chars, 1, 1024, ocr_page_seconds=0.75)
    within = _child(_ANNOUNCE + "time.sleep(1.5); print(json.dumps({'ok': True}))")  # > timeout, < 2.5 s
    assert [m.get("event", "result") for m in read_messages(within, limits)] == ["ocr", "result"]
    within.wait()
    beyond = _child(_ANNOUNCE + "time.sleep(30)")
    started = time.monotonic()
    with pytest.raises(Expired):
        list(read_messages(beyond, limits))
    assert 2.0 <= time.monotonic() - started < 10
    beyond.kill()
    beyond.wait()


# ---------------------------------------------------------------- reading scans (the model runs)

@pytest.fixture(scope="module")
def short_scan():
    return scans.scanned(SHORT, dpi=150, page_size=A5, red_header="株洲市教育局文件")


@pytest.mark.integration
def test_a_scanned_pdf_with_a_red_header_reads_back_as_the_text_without_header_or_footer(short_scan):
    heard = []
    result = extract(scans.image_pdf(short_scan, 150), "scan.pdf", LIMITS,
                     lambda done, total, stage: heard.append((done, total, stage)))
    assert result.text == SHORT  # every character, the 〔2023〕 included; red header, rule and "— 1 —" gone
    assert result.ocr.pages == 1 and result.ocr.confidence > 0.95 and result.pages == 1
    assert heard == [(0, 1, "ocr"), (1, 1, "ocr")]


@pytest.mark.integration
@pytest.mark.parametrize("angle", [90, 180], ids=["on-its-side", "upside-down"])
def test_a_rotated_page_is_turned_upright_and_read(angle):
    image = scans.scanned(ROTATED, dpi=150, page_size=A6, font_size=9)[0].rotate(angle, expand=True)
    result = extract(scans.image_bytes(image, "JPEG"), "photo.jpg", LIMITS)
    assert result.text == ROTATED.replace("\u3000", " ") and result.format == "jpeg"
    assert result.ocr.rotated_pages == (1,) and any("已自动转正" in w for w in result.warnings)


@pytest.mark.integration
def test_a_scan_without_text_and_a_scan_below_the_confidence_floor_are_refused():
    with pytest.raises(IngestError, match="扫描件中没有识别出文字"):
        extract(make_scanned_pdf(), "bars.pdf", LIMITS)  # grey bars where print would be
    strict = Limits(LIMITS.max_bytes, LIMITS.max_chars, LIMITS.timeout, LIMITS.memory_mb, ocr_min_confidence=0.9999)
    image = scans.scanned(ROTATED, dpi=150, page_size=A6, font_size=9, noise=40, blur=1.2)[0]
    with pytest.raises(IngestError, match="置信度过低"):
        extract(scans.image_bytes(image), "blurred.png", strict)


@pytest.mark.integration
def test_a_scan_is_ingested_its_clauses_found_and_cited_as_ocr(corpus_copy, tmp_path, shared_cache, short_scan):
    from assistant.interfaces.cli.questions import format_citation
    from assistant.interfaces.facade import Assistant

    a = Assistant(corpus_dir=corpus_copy, index_dir=fresh_index(tmp_path, shared_cache))
    stages = []
    report_ = a.ingest(scans.image_bytes(short_scan[0], "JPEG"), "zhuzhou-scan.jpg",
                       progress=lambda done, total, stage: stages.append(stage))
    assert report_.action == "added" and report_.city == "株洲市" and report_.ocr["pages"] == 1
    assert stages[0] == "ocr" and stages[-1] == "embed"
    entry = next(e for e in json.loads((corpus_copy / "manifest.json").read_text(encoding="utf-8"))["documents"]
                 if e["doc_id"] == report_.doc_id)
    assert entry["format"] == "jpeg" and entry["ocr"]["confidence"] > 0.95 and entry["ocr"]["low_confidence_pages"] == []
    assert entry["doc_number"] == "株教发〔2023〕12号"
    hit = a.retrieve("株洲市集团化办学覆盖率要达到多少？", k=5)[0]
    assert hit.doc_id == report_.doc_id and "80%" in hit.text and hit.ocr and hit.to_dict()["source_label"] == "OCR 识别"
    assert "【OCR 识别】" in format_citation(hit)
    assert not a.retrieve("长沙集团化办学的合作期限", k=1)[0].ocr  # text documents are not marked
    answer = a.ask("株洲市集团化办学覆盖率要达到多少？")
    assert any("OCR" in n for n in answer.notices) and a.document(report_.doc_id).ocr["pages"] == 1
