"""`docs list/show/diff` and `charter list/check` on a corpus with versions, as real subprocesses. The corpus is
built in the test (the bundled 中原区 draft followed by an edited final text, and 行政复议法 2017 → 2023 read
from ../shared/laws) through the library with the index update stubbed out: these commands need no index."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import docx
import pytest

from assistant.config import Settings
from assistant.corpus.library import Library
from tests.charter.test_check import DRAFTS
from tests.conftest import CORPUS, LAWS, ROOT, run_env
from tests.support.library import no_index
from tests.support.versions import DRAFT_ID, FINAL_EFFECTIVE, write_final

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def versioned(tmp_path_factory):
    """(environment, final's id, 行政复议法 2017's id, 2023's id)."""
    root = tmp_path_factory.mktemp("versions-cli")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    library = Library(Settings.from_env(corpus_dir=corpus, index_dir=root / "index"))
    apply = no_index
    final = library.add(write_final(corpus, root), apply, overrides={"effective_date": FINAL_EFFECTIVE}).doc_id
    old = library.add(LAWS / "诉讼与非诉讼程序法/行政复议法(2017-09-01).md", apply).doc_id
    new = library.add(LAWS / "诉讼与非诉讼程序法/行政复议法(2023-09-01).md", apply).doc_id
    env = run_env(ASSISTANT_CORPUS_DIR=str(corpus), ASSISTANT_INDEX_DIR=str(root / "index"))
    return env, final, old, new


def _cli(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_docs_list_shows_each_versions_standing_and_links(versioned):
    env, final, old, new = versioned
    listed = _cli("docs", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split("｜")[0]: line for line in listed.stdout.splitlines()}
    assert "征求意见稿（已定稿）" in lines[DRAFT_ID] and f"被 {final} 取代" in lines[DRAFT_ID]
    assert "现行有效（2023-03-01 施行）" in lines[final]
    assert "已修正" in lines[old] and "现行有效（2024-01-01 施行）" in lines[new]

    earlier = json.loads(_cli("docs", "list", "--as-of", "2023-10-01", "--json", env=env).stdout)
    forces = {d["doc_id"]: d["force_label"] for d in earlier}
    assert forces[old] == "现行有效" and forces[new] == "尚未施行"


def test_docs_show_lists_the_versions_oldest_first(versioned):
    env, final, old, new = versioned
    shown = _cli("docs", "show", new, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "效力：现行有效" in shown.stdout and f"上一版本：{old}" in shown.stdout
    block = shown.stdout.split("版本（从旧到新）：")[1]
    assert block.index(old) < block.index(new)
    data = json.loads(_cli("docs", "show", final, "--json", env=env).stdout)
    assert [v["doc_id"] for v in data["versions"]] == [DRAFT_ID, final]


def test_docs_diff_as_markdown_json_and_word(versioned, tmp_path):
    env, final, old, new = versioned
    markdown = _cli("docs", "diff", DRAFT_ID, env=env)  # NEW defaults to the next version
    assert markdown.returncode == 0, markdown.stderr
    assert "修改 2 条、新增 1 条、删除 0 条" in markdown.stdout and "~~年~~**学期**" in markdown.stdout

    data = json.loads(_cli("docs", "diff", old, new, "--json", env=env).stdout)
    assert data["old"]["doc_id"] == old and data["new"]["force_label"] == "现行有效"
    assert {c["kind"] for c in data["changes"]} == {"added", "removed", "changed", "unchanged"}

    out = tmp_path / "对比.docx"
    saved = _cli("docs", "diff", DRAFT_ID, final, "--docx", str(out), env=env)
    assert saved.returncode == 0, saved.stderr
    runs = [r for p in docx.Document(str(out)).paragraphs for r in p.runs]
    assert any(r.text == "年" and r.font.strike for r in runs)
    assert any(r.text == "学期" and r.font.underline for r in runs)


def test_docs_diff_of_a_document_without_a_newer_version_says_so(versioned):
    env, final, old, new = versioned
    result = _cli("docs", "diff", new, env=env)
    assert result.returncode == 2 and "没有更新的版本" in result.stderr
    missing = _cli("docs", "diff", "no-such-doc", new, env=env)
    assert missing.returncode == 2 and "找不到文档" in missing.stderr


def test_charter_requirements_whose_source_changed_are_flagged(versioned):
    env, final, old, new = versioned
    listed = _cli("charter", "list", "--city", "郑州市中原区", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    requirements = {r["id"]: r for r in json.loads(listed.stdout)}
    flagged = {k for k, r in requirements.items() if r["review_label"] == "需复核"}
    assert flagged == {"zy-curriculum"}  # the only requirement quoting an edited clause
    assert "每学期" in requirements["zy-curriculum"]["current_text"]
    assert requirements["zy-rules"]["source"]["doc_id"] == final  # unchanged clauses now cite the final text
    assert requirements["zy-rules"]["updated_from"] == DRAFT_ID

    text = _cli("charter", "list", "--city", "郑州市中原区", env=env).stdout
    assert "〔需复核｜" in text and "现行版本原文：" in text
    report = _cli("charter", "check", str(DRAFTS / "changsha-conflicts.txt"), "--city", "郑州市中原区", env=env)
    assert report.returncode == 0, report.stderr
    assert "1 项要求的依据条款在现行版本中已修改" in report.stdout and "**需复核**" in report.stdout
