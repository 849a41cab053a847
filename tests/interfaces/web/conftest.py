"""What the browser tests share: one app server for the whole package (started by app.py on a free loopback
port over a copy of the corpus, with its own data directory, and restartable), headless Debian Chromium, and
pages at the two sizes the issue names, opened by a browser set to English."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, GOLD, ROOT, free_port, fresh_index, run_env, save_cache, stop_process, wait_for_http

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# where the screenshots of every tab go (ASSISTANT_SCREENSHOTS=docs/screenshots refreshes the README's)
SHOTS = Path(os.environ.get("ASSISTANT_SCREENSHOTS") or ROOT / "test-output" / "screenshots")
SIZES = {"desktop": (1366, 800), "phone": (390, 844)}
ANSWER = 90_000  # ms: the machine is slow and shared
QUESTION = "长沙集团化办学的合作期限是多久？"


class AppServer:
    """app.py as a subprocess; `restart` keeps the port, the corpus, the index and the data directory."""

    def __init__(self, tmp: Path, shared_cache: Path):
        corpus = tmp / "corpus"
        shutil.copytree(CORPUS, corpus)
        self.index_dir = fresh_index(tmp, shared_cache)
        self.data_dir = tmp / "data"
        gold = tmp / "gold-sample.jsonl"  # a few items of each kind, so the 评测 tab finishes quickly
        lines = GOLD.read_text(encoding="utf-8").splitlines()
        gold.write_text("\n".join(lines[:4] + lines[-2:]) + "\n", encoding="utf-8")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        self.env = run_env(ASSISTANT_CORPUS_DIR=str(corpus), ASSISTANT_INDEX_DIR=str(self.index_dir),
                           ASSISTANT_DATA_DIR=str(self.data_dir), ASSISTANT_PORT=str(port),
                           ASSISTANT_EVAL_GOLD=str(gold))
        self.log_path = tmp / "app.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT)
        wait_for_http(self.url, self.proc, 300)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="package")
def app_server(tmp_path_factory, shared_cache):
    server = AppServer(tmp_path_factory.mktemp("web"), shared_cache)
    server.start()
    save_cache(server.index_dir, shared_cache)
    yield server
    server.stop()


@pytest.fixture(scope="package")
def app_url(app_server) -> str:
    return app_server.url


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Chromium is required for the browser tests: apt-get install chromium fonts-wqy-microhei"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(params=list(SIZES))
def size(request) -> str:
    return request.param


def new_page(browser, url: str, size: str, **options):
    """A fresh browser (its own localStorage) at `size`, set to English, on the loaded app."""
    width, height = SIZES[size]
    phone = size == "phone"
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US", is_mobile=phone,
                                  has_touch=phone, accept_downloads=True, **options)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    wait_ready(page)
    return page


def wait_ready(page) -> None:
    """Loaded: Gradio's strings switched to Chinese and the browser given its id by the page-load event."""
    page.wait_for_selector("#question textarea", timeout=60_000)
    page.wait_for_function("document.documentElement.lang === 'zh-CN' && !!localStorage.getItem('pa-browser')",
                           timeout=30_000)


@pytest.fixture
def page(browser, app_url, size):
    pg = new_page(browser, app_url, size)
    pg.size = size
    yield pg
    pg.context.close()


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


def overflow(page) -> int:
    """How far the page is wider than the screen (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def shot(page, name: str, anchor: str | None = None) -> None:
    """A screenshot of what the screen shows, scrolled so that `anchor` (the tab's result) starts at the top."""
    if anchor:
        page.locator(anchor).first.evaluate("el => el.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(200)
    page.screenshot(path=str(SHOTS / f"{name}-{page.size}.png"))
