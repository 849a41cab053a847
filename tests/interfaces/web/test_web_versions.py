"""版本 in a real browser: an app over a corpus where the 中原区 draft has been followed by its edited final text
(built in the test): the library shows each version's standing, 版本对比 marks exactly the edits, and the chat's
date option answers from the draft as it stood before the final text took effect."""
from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.corpus.library import Library
from tests.conftest import CORPUS, save_cache
from tests.interfaces.web.conftest import ANSWER, AppServer, ask, choose, last_answer, new_page, open_tab, shot
from tests.support.library import no_index
from tests.support.versions import FINAL_EFFECTIVE, write_final

pytestmark = pytest.mark.browser

DRAFT_TITLE = "中原区推进公办中小学集团化办学实施方案（征求意见稿）（郑州市中原区）"


@pytest.fixture(scope="module")
def versioned_url(tmp_path_factory, shared_cache):
    tmp = tmp_path_factory.mktemp("web-versions")
    server = AppServer(tmp, shared_cache)
    corpus = tmp / "corpus"
    Library(Settings.from_env(corpus_dir=corpus, index_dir=server.index_dir)).add(
        write_final(corpus, tmp), no_index, overrides={"effective_date": FINAL_EFFECTIVE})
    server.start()  # the app builds the index, final text included
    save_cache(server.index_dir, shared_cache)
    yield server.url
    server.stop()


def test_the_library_compares_the_draft_with_its_final_text(browser, versioned_url):
    page = new_page(browser, versioned_url, "desktop")
    page.size = "desktop"
    try:
        open_tab(page, "文档库")
        page.wait_for_function("document.querySelector('#doc-table').innerText.includes('征求意见稿（已定稿）')")
        choose(page, "doc-pick", DRAFT_TITLE)
        page.locator("#version-compare").get_by_text("版本对比").click()
        page.wait_for_function("document.querySelector('#diff-new input')?.value?.includes('现行有效')",
                               timeout=30_000)  # the next version is chosen by default
        page.click("#diff-button")
        page.locator("#diff-view .pa-diff").wait_for(timeout=30_000)
        view = page.locator("#diff-view")
        assert "修改 2 条、新增 1 条、删除 0 条" in view.inner_text()
        assert view.locator("del.pa-diff-del").all_inner_texts() == ["10", "年"]
        assert view.locator("ins.pa-diff-ins").all_inner_texts() == ["12", "学期"]
        assert view.locator('[data-kind="added"]').count() == 1
        shot(page, "versions", "#version-compare")
    finally:
        page.context.close()


def test_the_chat_answers_as_of_a_day_from_the_version_then_in_force(browser, versioned_url):
    page = new_page(browser, versioned_url, "desktop")
    try:
        question = "中原区的集团内多久组织一次共用共享课程建设活动？"
        ask(page, question)
        assert "每学期应组织开展" in last_answer(page).inner_text()
        page.locator("#version-options").get_by_text("范围、版本与日期").click()
        page.fill("#chat-as-of input, #chat-as-of textarea", "2022-06-01")
        ask(page, question)
        answer = last_answer(page).inner_text()
        assert "每年应组织开展" in answer and "按 2022-06-01 时施行的版本回答" in answer
    finally:
        page.context.close()


def test_an_upload_names_the_version_it_supersedes_and_imports_beside_it(browser, versioned_url, tmp_path):
    """Run last in this module: it adds a third version to the server's corpus."""
    from tests.support.versions import final_text

    revised = tmp_path / "中原区方案2024.txt"
    # the server's corpus holds the final text: a revision of it is the newer version
    text = final_text(CORPUS).replace("全区累计创建市级公办中小学优质教育集团不少于12个",
                                      "全区累计创建市级公办中小学优质教育集团不少于15个")
    revised.write_text(text, encoding="utf-8")
    page = new_page(browser, versioned_url, "desktop")
    try:
        open_tab(page, "文档库")
        page.locator("#doc-upload input[type=file]").set_input_files([str(revised)])
        page.wait_for_function("document.querySelector('#meta-supersedes input')?.value?.includes('现行有效')",
                               timeout=ANSWER)
        assert "作为新版本导入（旧版本保留）" in page.locator("#upload-info").inner_text()
        page.click("#ingest-button")
        page.wait_for_function("document.querySelector('#library-message').innerText.includes('已作为新版本导入')",
                               timeout=180_000)
        page.wait_for_function("document.querySelector('#doc-table').innerText.split('已修正').length > 1")
    finally:
        page.context.close()
