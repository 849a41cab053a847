"""The 问答 tab in a real browser (headless Debian Chromium through Playwright, set to English) at 1366×800 and
390×844: the question box in view on load, the answer's first line in view after asking, Gradio's own strings
in Chinese, citation cards that open their clause in the reader, conversations that survive a reload and a
server restart, and feedback that ends up as candidate gold items.

Chromium is required: without it these tests fail (CI installs it with `make test`), they never skip."""
from __future__ import annotations

import json

import pytest

from assistant.evaluation.run import load_gold
from tests.interfaces.web.conftest import (ANSWER, QUESTION, ask, last_answer, new_page, open_tab, overflow, shot,
                                           wait_ready)

pytestmark = pytest.mark.browser


def in_view(page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box


def test_the_question_box_is_in_view_on_load_and_gradio_speaks_chinese(page):
    box = in_view(page, "#question textarea")
    height = page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (box, height)
    button = in_view(page, "#ask-button")
    assert button["y"] + button["height"] <= height
    # the browser asks for English; Gradio's own strings (upload area, buttons) still come in Chinese
    open_tab(page, "文档库")
    upload = page.locator("#doc-upload")
    upload.wait_for()
    assert "点击上传" in upload.inner_text() and "Click to Upload" not in upload.inner_text()
    assert overflow(page) <= 1


def test_the_answer_starts_in_view_with_its_cards_and_copy(page):
    ask(page, "青岛组建教育集团需要谁审批？")  # an earlier answer above, so the chat has to scroll
    ask(page, QUESTION)
    page.wait_for_timeout(400)  # the scroll runs on the next frame
    answer = last_answer(page)
    top = answer.bounding_box()["y"]
    chat = in_view(page, "#chatbot")
    assert chat["y"] - 1 <= top <= chat["y"] + 0.5 * chat["height"], (top, chat)  # its first line, not its last
    assert 0 <= top < page.viewport_size["height"]
    card = answer.locator("details.pa-card", has_text="合作时限一般为六年").first
    summary = card.locator("summary").inner_text()
    assert "长教通〔2020〕97号" in summary and "长沙市" in summary and "指导意见" in summary
    assert "合作时限一般为六年" in card.locator("mark").inner_text()
    n = card.get_attribute("id").rsplit("-", 1)[1]
    card.evaluate("el => el.open = false")
    answer.locator(f"a.pa-ref:text-is('[{n}]')").first.click()  # the marker opens its card
    page.wait_for_function("el => el.open", arg=card.element_handle(), timeout=5_000)
    if answer.locator(".pa-conclusion").count():  # the conclusion, when the answer has one, comes first
        conclusion, text = answer.locator(".pa-conclusion"), answer.locator(".pa-text-answer")
        assert conclusion.bounding_box()["y"] < text.bounding_box()["y"]
    # Gradio's thumbs carry Chinese labels; each answer copies itself with its citations
    assert page.locator('#chatbot button[aria-label="踩"]').count() >= 2
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    answer.locator("button.pa-copy").click()
    page.wait_for_function("async () => (await navigator.clipboard.readText()).includes('长教通〔2020〕97号')",
                           timeout=10_000)
    assert "处理中" not in page.locator("#chatbot").inner_text() and overflow(page) <= 1
    shot(page, "chat")


@pytest.mark.parametrize("size", ["desktop"], indirect=True)
def test_follow_ups_refusals_and_html_in_questions(page):
    ask(page, "青岛组建教育集团需要谁审批？")
    ask(page, "那长沙呢？")
    answer = last_answer(page)
    assert "按上文理解为：长沙市组建教育集团需要谁审批？" in answer.locator(".pa-note").inner_text()
    assert set(answer.locator("details.pa-card .pa-city").all_inner_texts()) == {"长沙市"}
    ask(page, '<img src=x onerror="alert(1)"><script>alert(2)</script> 北京的集团化办学有什么规定？')
    assert page.locator("#chatbot img[src=x], #chatbot script").count() == 0
    assert "<img src=x" in page.locator("#chatbot").inner_text()
    abstain = last_answer(page).locator(".pa-abstain")
    assert "未找到依据" in abstain.inner_text() and "北京" in abstain.inner_text()
    ask(page, "🙂🙂🙂")
    assert "没有可识别的文字" in page.locator("#chatbot .pa-error").last.inner_text()
    page.wait_for_timeout(300)
    assert page.dialogs == [] and "Traceback" not in page.locator("#chatbot").inner_text()


def test_a_citation_card_opens_its_clause_in_the_library_reader(page):
    ask(page, QUESTION)
    card = last_answer(page).locator("details.pa-card").first
    card.evaluate("el => el.open = true")
    card.locator("a.pa-open-doc").click()
    focus = page.locator("#doc-view .pa-focus")
    focus.wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    box = focus.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]  # scrolled to the clause
    assert "合作时限一般为六年" in focus.inner_text()
    assert page.get_by_role("tab", name="文档库").get_attribute("aria-selected") == "true"
    assert "指导意见" in page.locator("#doc-pick input").input_value()


def test_conversations_survive_a_reload_and_a_server_restart(browser, app_server):
    pages = {size: new_page(browser, app_server.url, size) for size in ("desktop", "phone")}
    try:
        for size, pg in pages.items():
            ask(pg, "青岛成员校退出集团需要谁批准？")
            ask(pg, "那长沙呢？")
            pg.reload()
            wait_ready(pg)
            pg.wait_for_function("document.querySelectorAll('#chatbot .pa-answer').length === 2", timeout=30_000)
            assert "青岛成员校退出集团需要谁批准？" in pg.locator("#conv-list").inner_text(), size
        app_server.restart()
        for size, pg in pages.items():
            pg.reload()
            wait_ready(pg)
            pg.wait_for_function("document.querySelectorAll('#chatbot .pa-answer').length === 2", timeout=30_000)
            assert [t.strip() for t in pg.locator("#conv-list label").all_inner_texts()] == ["青岛成员校退出集团需要谁批准？"]
            ask(pg, "那南昌呢？")  # the follow-up context came back with the conversation
            assert "按上文理解为：南昌市成员校退出集团需要谁批准？" in last_answer(pg).locator(".pa-note").inner_text()
        desktop, phone = pages["desktop"], pages["phone"]
        # 新对话 and the chat's trash button both start afresh: a bare follow-up has nothing to follow
        desktop.click("#new-chat")
        desktop.wait_for_function("document.querySelectorAll('#chatbot .pa-answer').length === 0")
        ask(desktop, "那长沙呢？")
        assert "按上文理解为" not in last_answer(desktop).inner_text()
        phone.locator('#chatbot button[aria-label="清空对话"]').click()
        phone.wait_for_function("document.querySelectorAll('#chatbot .pa-answer').length === 0")
        ask(phone, "那长沙呢？")
        assert "按上文理解为" not in last_answer(phone).inner_text()
        # reopen, rename and delete
        desktop.locator("#conv-list label", has_text="青岛成员校退出集团需要谁批准？").click()
        desktop.wait_for_function("document.querySelectorAll('#chatbot .pa-answer').length === 3")
        desktop.locator("#conv-title textarea, #conv-title input").first.fill("退出审批对比")
        desktop.click("#conv-rename")
        desktop.wait_for_function("document.querySelector('#conv-list').innerText.includes('退出审批对比')")
        desktop.click("#conv-delete")
        desktop.wait_for_function("!document.querySelector('#conv-list').innerText.includes('退出审批对比')")
        assert desktop.locator("#chatbot .pa-answer").count() == 0
        # each browser sees only its own conversations
        assert "退出审批对比" not in phone.locator("#conv-list").inner_text()
    finally:
        for pg in pages.values():
            pg.context.close()


def test_feedback_is_stored_and_exported_as_candidate_gold_items(page, tmp_path):
    marker = f"意见标记-{page.size}"
    ask(page, QUESTION)
    page.locator('#chatbot button[aria-label="踩"]').last.click()
    page.locator("#feedback-panel").first.wait_for(state="visible", timeout=30_000)
    assert "已记录“踩”" in page.locator("#feedback-message").inner_text()
    page.locator("#feedback-reasons label", has_text="答案不完整").click()
    page.locator("#feedback-comment textarea").fill(marker + "<b>加粗</b><img src=x onerror=alert(1)>" + "长" * 10_000)
    page.click("#feedback-submit")
    page.wait_for_function("document.querySelector('#feedback-message').innerText.includes('感谢反馈')",
                           timeout=ANSWER)
    assert "已截取前 2000 字" in page.locator("#feedback-message").inner_text()
    # the evaluator's view: the comment shows as text, and the 踩 export is in the gold-set format
    open_tab(page, "评测")
    page.locator("#fb-rating input").click()
    page.get_by_role("option", name="踩（有问题）").click()
    page.wait_for_function(f"document.querySelector('#fb-list').innerText.includes('{marker}')", timeout=ANSWER)
    listing = page.locator("#fb-list")
    assert "<b>加粗</b><img src=x" in listing.inner_text() and listing.locator("b, img").count() == 0
    page.click("#fb-export")
    page.locator("#fb-download").wait_for(state="visible", timeout=ANSWER)
    with page.expect_download() as download:
        page.click("#fb-download")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("候选评测题-") and path.suffix == ".jsonl"
    items = [i for i in load_gold(path) if i["review"]["comment"].startswith(marker)]
    assert len(items) == 1 and items[0]["question"] == QUESTION and items[0]["review"]["corpus_hash"]
    assert items[0]["review"]["reasons"] == ["答案不完整"] and len(items[0]["review"]["comment"]) == 2000
    assert {e["doc_id"] for e in items[0]["expected"]} and all(json.dumps(e) for e in items[0]["expected"])
    assert page.dialogs == [] and overflow(page) <= 1
