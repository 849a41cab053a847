"""对比, 章程, 文档库 and 评测 in a real browser at 1366×800 and 390×844: one card per city on a phone with no
sideways scrolling, exports named after their topic (and the overview as XLSX), the charter report kept on
screen when the outline is made and downloadable as Word, a document imported in one session visible in
another, and the evaluation compared with the previous run. Screenshots of every tab go to SHOTS."""
from __future__ import annotations

import re

import docx
import openpyxl
import pytest

from tests.charter.test_check import DRAFTS
from tests.interfaces.web.conftest import (ANSWER, ask, choose, last_answer, new_page, open_tab, overflow, shot)
from tests.support.samples import ZHUZHOU

pytestmark = pytest.mark.browser

CITIES = ["南昌市", "郑州市中原区", "长沙市", "青岛市"]


def download(page, selector: str, tmp_path):
    with page.expect_download() as info:
        page.click(selector)
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_comparison_cards_stack_on_a_phone_and_exports_name_the_topic(page, tmp_path):
    open_tab(page, "对比")
    page.wait_for_function("document.querySelectorAll('#compare-cities input:checked').length === 4")
    choose(page, "compare-topic", "合作期限")
    page.click("#compare-button")
    result = page.locator("#compare-result .pa-compare")
    result.wait_for(timeout=ANSWER)
    table, cards = result.locator("table.pa-table"), result.locator(".pa-city-card")
    assert "合作时限一般为六年" in result.inner_text() and "未作规定" in result.inner_text()
    if page.size == "phone":
        assert not table.is_visible() and cards.count() == 4
        assert [c.locator(".pa-city-card-head").inner_text() for c in cards.all()] == CITIES
        boxes = [c.bounding_box() for c in cards.all()]
        assert all(b["y"] + b["height"] <= n["y"] for b, n in zip(boxes, boxes[1:]))  # stacked, one per row
        assert all(b["width"] >= 300 for b in boxes)  # a city's text is not squeezed to a sliver
    else:
        assert table.is_visible() and not cards.first.is_visible()
        assert table.locator("thead th").all_inner_texts()[1:] == CITIES
    assert overflow(page) <= 1
    shot(page, "compare", "#compare-result")
    md = download(page, "#export-first", tmp_path)
    assert md.name.startswith("对比-合作期限-") and "合作时限一般为六年" in md.read_text(encoding="utf-8")
    # the whole topic × city overview, on screen and as a spreadsheet
    page.click("#matrix-button")
    page.wait_for_function("document.querySelector('#compare-result').innerText.includes('全部主题总览')",
                           timeout=ANSWER)
    assert overflow(page) <= 1
    if page.size == "phone":
        assert page.locator("#compare-result .pa-city-card").count() == 4
    xlsx = download(page, "#export-second", tmp_path)
    assert xlsx.name.startswith("主题总览-") and xlsx.suffix == ".xlsx"
    sheet = openpyxl.load_workbook(xlsx)["总览"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["主题", *CITIES] and any(r[0] == "合作期限" for r in rows)
    assert download(page, "#export-first", tmp_path).read_text(encoding="utf-8").startswith("# 集团化办学政策：全部主题总览")


def test_the_charter_report_stays_when_the_outline_is_made_and_downloads_as_docx(page, tmp_path):
    open_tab(page, "章程")
    page.fill("#charter-draft textarea", (DRAFTS / "changsha-conflicts.txt").read_text(encoding="utf-8"))
    choose(page, "charter-city", "长沙市")
    page.click("#charter-check")
    report = page.locator("#charter-result .pa-charter")
    report.wait_for(timeout=ANSWER)
    assert "冲突 5" in report.locator(".pa-counts").inner_text()
    ids = [i for i in report.locator(".pa-req").evaluate_all("els => els.map(e => e.dataset.req)") if i]
    assert ids and not any(i in report.inner_text() for i in ids)  # internal ids hidden from users
    page.click("#skeleton-button")
    page.locator("#skeleton-docx").wait_for(state="visible", timeout=ANSWER)
    assert "第一章" in page.locator("#skeleton-result").inner_text()
    assert report.is_visible() and "冲突 5" in report.locator(".pa-counts").inner_text()  # still there
    assert overflow(page) <= 1
    shot(page, "charter", "#charter-result")
    word = download(page, "#report-docx", tmp_path)
    assert word.name.startswith("章程检查报告-长沙市-") and word.suffix == ".docx"
    text = "\n".join(p.text for p in docx.Document(str(word)).paragraphs)
    assert "章程合规检查报告：长沙市" in text and all(f"｜{i}〕" in text for i in ids)  # ids kept for tooling
    assert download(page, "#report-md", tmp_path).read_text(encoding="utf-8").startswith("# 章程合规检查报告")


def test_a_document_imported_in_one_session_is_seen_by_another(browser, app_url, tmp_path):
    title = "株洲市教育局关于推进义务教育集团化办学的实施方案"
    source = tmp_path / "zhuzhou.txt"
    source.write_text(ZHUZHOU.replace("三、保障措施", "三、保障措施 <script>alert('x')</script><b>加粗</b>"), encoding="utf-8")
    broken = tmp_path / "broken.pdf"
    broken.write_text("这不是 PDF", encoding="utf-8")
    first = new_page(browser, app_url, "desktop")
    first.size = "desktop"
    second = third = None
    try:
        open_tab(first, "文档库")
        first.locator("#doc-upload input[type=file]").set_input_files([str(source), str(broken)])
        first.wait_for_function("!document.querySelector('#ingest-button').disabled", timeout=ANSWER)
        assert "已选择 2 个文件" in first.locator("#upload-info").inner_text()
        first.click("#ingest-button")
        first.wait_for_function("document.querySelector('#library-message').innerText.includes('成功 1 个')",
                                timeout=180_000)
        results = first.locator("#library-message").inner_text()
        assert "zhuzhou.txt：已导入" in results and "broken.pdf" in results
        # the form is cleared: no preview and nothing left to confirm
        assert first.locator("#upload-info").inner_text().strip() == ""
        assert first.evaluate("document.querySelector('#ingest-button').disabled")
        shot(first, "library", "#library-message")
        # a browser that opens the page now sees the document, opens it, and asks about it
        second = new_page(browser, app_url, "phone")
        second.size = "phone"
        open_tab(second, "文档库")
        second.wait_for_function(f"document.querySelector('#doc-table').innerText.includes('{title}')")
        choose(second, "doc-pick", f"{title}（株洲市）")
        view = second.locator("#doc-view .pa-doc")
        view.wait_for(timeout=30_000)
        assert "株教发〔2023〕12号" in view.inner_text() and "<script>alert('x')</script>" in view.inner_text()
        assert second.locator("#doc-view script, #doc-view b").count() == 0 and overflow(second) <= 1
        shot(second, "library", "#doc-view")
        open_tab(second, "问答")
        second.locator("#chat-cities input").click()
        assert second.get_by_role("option", name="株洲市", exact=True).count() == 1
        second.keyboard.press("Escape")
        ask(second, "株洲每个教育集团成员校不超过几所？")
        assert "不超过6所" in last_answer(second).inner_text()
        # removed there, and gone for the next browser
        open_tab(second, "文档库")
        choose(second, "doc-pick", f"{title}（株洲市）")
        second.locator("#remove-confirm input").check()
        second.click("#remove-button")
        second.wait_for_function("document.querySelector('#library-message').innerText.includes('已删除')",
                                 timeout=180_000)
        third = new_page(browser, app_url, "desktop")
        open_tab(third, "文档库")
        third.wait_for_function("document.querySelector('#doc-table').innerText.includes('南昌市')")
        assert title not in third.locator("#doc-table").inner_text()
    finally:
        for pg in (first, second, third):
            if pg is not None:
                pg.context.close()


def test_the_evaluation_names_its_metrics_in_chinese_and_fills_in_the_previous_run(page):
    open_tab(page, "评测")
    intro = page.locator("#eval-intro")
    intro.wait_for()
    page.wait_for_function("document.querySelector('#eval-intro').innerText.includes('共 6 题')")
    summary = ("(() => { const n = document.querySelector('#eval-metrics .pa-eval .pa-note');"
               " return n ? n.innerText : ''; })()")
    for run in (1, 2):  # the run's own summary line: the progress shown over the table changes its text too
        before = page.evaluate(summary)
        page.click("#eval-button")
        page.wait_for_function(f"(before) => {{ const t = {summary}; return t.includes('（每题') && t !== before; }}",
                               arg=before, timeout=180_000)
    assert "与上次（" in page.evaluate(summary)
    table = page.locator("#eval-metrics table")
    text = table.inner_text()
    assert "单城市题·前5条命中率" in text and "引用准确率" in text and "越高越好" in text
    assert not re.search(r"recall@|MRR@|extractive", page.locator("#eval-metrics").inner_text())
    previous = [row.locator("td").nth(2).inner_text() for row in table.locator("tbody tr").all()]
    assert sum(p != "—" for p in previous) >= 5  # the 上次 column is filled in
    assert "上次每题约" in intro.inner_text() and "预计本次约" in intro.inner_text()
    page.locator("#eval-chart img").wait_for(timeout=30_000)
    assert overflow(page) <= 1
    shot(page, "eval", "#eval-metrics")
