"""The web app in a real browser: headless Debian Chromium driven by Playwright, against app.py started
by this module on a free loopback port over a copy of the corpus (the upload test writes to it).

Chromium is required: without it these tests fail (CI installs it with `make test`), they never skip.
Screenshots of every tab go to test-output/screenshots/."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import (CORPUS, GOLD, ROOT, free_port, fresh_index, run_env, save_cache, stop_process,
                       wait_for_http)
from tests.support.samples import ZHUZHOU
from tests.charter.test_check import DRAFTS

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "test-output" / "screenshots"
ANSWER = 90_000  # ms: the machine is slow and shared
QUESTION = "长沙集团化办学的合作期限是多久？"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, shared_cache):
    tmp = tmp_path_factory.mktemp("web")
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS, corpus)
    index_dir = fresh_index(tmp, shared_cache)
    gold = tmp / "gold-sample.jsonl"  # a few items of each kind, so the 评测 tab finishes quickly
    lines = GOLD.read_text(encoding="utf-8").splitlines()
    gold.write_text("\n".join(lines[:4] + lines[-2:]) + "\n", encoding="utf-8")
    port = free_port()
    env = run_env(ASSISTANT_CORPUS_DIR=str(corpus), ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_PORT=str(port),
                  ASSISTANT_EVAL_GOLD=str(gold))
    log = open(tmp / "app.log", "wb")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, proc, 300)
        save_cache(index_dir, shared_cache)
        yield url
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Chromium is required for the browser tests: apt-get install chromium fonts-wqy-microhei"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.goto(app_url)
    pg.wait_for_selector("#question textarea", timeout=60_000)
    pg.dialogs = dialogs
    yield pg
    context.close()


def ask(page, question: str) -> None:
    before = page.locator("#chatbot .pa-answer, #chatbot .pa-error").count()
    page.fill("#question textarea", question)
    page.click("#ask-button")
    page.wait_for_function(
        f"document.querySelectorAll('#chatbot .pa-answer, #chatbot .pa-error').length > {before}", timeout=ANSWER)


def last_answer(page):
    return page.locator("#chatbot .pa-answer").last


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def choose(page, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_chat_cites_the_clause_in_a_card_and_markers_open_it(page):
    ask(page, QUESTION)
    answer = last_answer(page)
    card = answer.locator("details.pa-card", has_text="合作时限一般为六年").first
    assert card.is_visible()
    summary = card.locator("summary").inner_text()
    assert "长教通〔2020〕97号" in summary and "长沙市" in summary and "指导意见" in summary
    assert "合作时限一般为六年" in card.locator("mark").inner_text()
    assert "限定合作时间" in card.locator(".pa-clause").inner_text()
    # clicking the marker [n] opens its card
    n = card.get_attribute("id").rsplit("-", 1)[1]
    card.evaluate("el => el.open = false")
    answer.locator(f"a.pa-ref:text-is('[{n}]')").first.click()
    page.wait_for_function("el => el.open", arg=card.element_handle(), timeout=5_000)
    # the copyable plain text carries the citations
    page.get_by_text("答案纯文本（含引用）").click()
    plain = page.locator("#answer-plain textarea").input_value()
    assert "合作时限一般为六年" in plain and "长教通〔2020〕97号" in plain and f"[{n}]" in plain
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy-answer")
    page.wait_for_function("async () => (await navigator.clipboard.readText()).includes('长教通〔2020〕97号')",
                           timeout=10_000)
    page.screenshot(path=str(SHOTS / "chat.png"), full_page=True)


def test_follow_up_keeps_the_conversation_context(page):
    ask(page, "青岛成员校退出集团需要谁批准？")
    ask(page, "那长沙呢？")
    answer = last_answer(page)
    assert "按上文理解为：长沙市成员校退出集团需要谁批准？" in answer.locator(".pa-note").inner_text()
    cities = answer.locator("details.pa-card .pa-city").all_inner_texts()
    assert cities and set(cities) == {"长沙市"}


def test_abstention_is_visible_and_html_in_a_question_renders_inert(page):
    ask(page, '<img src=x onerror="alert(1)"><script>alert(2)</script> 北京的集团化办学有什么规定？')
    assert page.locator("#chatbot img[src=x], #chatbot script").count() == 0
    assert "<img src=x" in page.locator("#chatbot").inner_text()
    abstain = last_answer(page).locator(".pa-abstain")
    assert "未找到依据" in abstain.inner_text() and "北京" in abstain.inner_text()
    page.wait_for_timeout(500)
    assert page.dialogs == []
    # a question with nothing readable gets a clear message, not a traceback
    ask(page, "🙂🙂🙂")
    error = page.locator("#chatbot .pa-error").last.inner_text()
    assert "没有可识别的文字" in error and "Traceback" not in page.locator("#chatbot").inner_text()


def test_comparison_has_one_column_per_city_and_exports(page):
    open_tab(page, "对比")
    choose(page, "compare-topic", "合作期限")
    page.click("#compare-button")
    table = page.locator("#compare-result table.pa-table")
    table.wait_for(timeout=ANSWER)
    cities = ["南昌市", "郑州市中原区", "长沙市", "青岛市"]
    assert table.locator("thead th").all_inner_texts()[1:] == cities
    assert table.locator("tbody tr").first.locator("td").count() == len(cities)
    text = table.inner_text()
    assert "合作时限一般为六年" in text and "未作规定" in text
    assert page.get_by_role("button", name="导出 Markdown").is_visible()
    assert page.get_by_role("button", name="导出 CSV").is_visible()
    page.screenshot(path=str(SHOTS / "compare.png"), full_page=True)


def test_charter_check_and_skeleton(page):
    open_tab(page, "章程")
    page.fill("#charter-draft textarea", (DRAFTS / "changsha-conflicts.txt").read_text(encoding="utf-8"))
    choose(page, "charter-city", "长沙市")
    page.click("#charter-check")
    page.locator("#charter-result .pa-score").wait_for(timeout=ANSWER)
    assert "冲突 5" in page.locator("#charter-result .pa-counts").inner_text()
    assert page.locator("#charter-result .pa-req-conflict").count() == 5
    page.screenshot(path=str(SHOTS / "charter.png"), full_page=True)
    page.get_by_role("button", name="生成合规章程框架").click()
    page.get_by_role("button", name="下载框架（DOCX）").wait_for(timeout=ANSWER)
    assert "第一章" in page.locator("#skeleton-result").inner_text()
    page.screenshot(path=str(SHOTS / "charter-skeleton.png"), full_page=True)


def test_upload_a_document_and_find_it_in_the_library(page, tmp_path):
    open_tab(page, "文档库")
    page.locator("#doc-table").wait_for()
    assert "南昌市" in page.locator("#doc-table").inner_text()
    text = ZHUZHOU.replace("三、保障措施", "三、保障措施 <script>alert('x')</script><b>加粗</b>")
    path = tmp_path / "zhuzhou.txt"
    path.write_text(text, encoding="utf-8")
    page.locator("#doc-upload input[type=file]").set_input_files(str(path))
    page.wait_for_function("!document.querySelector('#ingest-button').disabled", timeout=ANSWER)
    assert page.locator("#meta-city input").input_value() == "株洲市"
    page.click("#ingest-button")
    page.wait_for_function("document.querySelector('#library-message').innerText.includes('已导入')",
                           timeout=180_000)
    assert "株洲市教育局关于推进义务教育集团化办学的实施方案" in page.locator("#doc-table").inner_text()
    # open it: metadata and clause structure, with the document's HTML shown as text
    choose(page, "doc-pick", "株洲市教育局关于推进义务教育集团化办学的实施方案（株洲市）")
    view = page.locator("#doc-view .pa-doc")
    view.wait_for(timeout=30_000)
    assert "株教发〔2023〕12号" in view.inner_text() and view.locator(".pa-doc-clause").count() >= 3
    assert "<script>alert('x')</script>" in view.inner_text()
    assert page.locator("#doc-view script, #doc-view b").count() == 0
    page.screenshot(path=str(SHOTS / "library.png"), full_page=True)
    # and the chat now answers from it; its city is offered in the filters
    page.get_by_role("tab", name="问答").click()
    assert "株洲市" in page.locator("#chat-cities").inner_text()
    ask(page, "株洲每个教育集团成员校不超过几所？")
    assert "不超过6所" in last_answer(page).inner_text()
    # remove it again (only after confirming)
    open_tab(page, "文档库")
    choose(page, "doc-pick", "株洲市教育局关于推进义务教育集团化办学的实施方案（株洲市）")
    page.click("#remove-button")
    page.wait_for_function("document.querySelector('#library-message').innerText.includes('确认删除')")
    page.locator("#remove-confirm input").check()
    page.click("#remove-button")
    page.wait_for_function("document.querySelector('#library-message').innerText.includes('已删除')",
                           timeout=180_000)
    assert "株洲市" not in page.locator("#doc-table").inner_text()
    page.get_by_role("tab", name="问答").click()
    assert "株洲市" not in page.locator("#chat-cities").inner_text()


def test_evaluation_tab_shows_metrics_and_chart(page):
    open_tab(page, "评测")
    page.click("#eval-button")
    page.locator("#eval-metrics table").wait_for(timeout=180_000)
    assert "共 6 题" in page.locator("#eval-metrics").inner_text()
    assert "单城市 recall@5" in page.locator("#eval-metrics table").inner_text()
    page.locator("#eval-chart img").wait_for(timeout=30_000)
    page.screenshot(path=str(SHOTS / "eval.png"), full_page=True)


def test_chat_fits_a_phone_screen(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    try:
        pg.goto(app_url)
        pg.wait_for_selector("#question textarea", timeout=60_000)
        ask(pg, QUESTION)
        overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        pg.screenshot(path=str(SHOTS / "chat-phone.png"), full_page=True)
        assert pg.evaluate(overflow) <= 1
        for tab in ("对比", "章程", "文档库", "评测"):
            open_tab(pg, tab)
            pg.wait_for_timeout(300)
            assert pg.evaluate(overflow) <= 1, tab
    finally:
        context.close()
