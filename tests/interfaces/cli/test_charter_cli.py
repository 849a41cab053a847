"""`policy-assistant charter ...` as a real subprocess; charter commands need no index or model."""
from __future__ import annotations

import json
import subprocess
import sys

import docx
import pytest

from tests.conftest import CORPUS, ROOT, run_env
from tests.charter.test_check import DRAFTS

pytestmark = pytest.mark.unit  # tests marked integration below override it


def _cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", "charter", *args], cwd=ROOT,
                          env=env or run_env(ASSISTANT_CORPUS_DIR=str(CORPUS)),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["changsha-conflicts.txt", "changsha-compliant.md"])
def test_check_json(name):
    result = _cli("check", str(DRAFTS / name), "--city", "长沙", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["city"] == "长沙市"
    conflicts = {r["id"] for r in data["results"] if r["status"] == "conflict"}
    assert conflicts == (set() if "compliant" in name else
                         {"cs-term", "cs-scale", "cs-joint-exam", "cs-brand-after-exit", "cs-contract-review"})


def test_check_docx_prints_a_markdown_report(tmp_path):
    document = docx.Document()
    for line in (DRAFTS / "nanchang-rename.txt").read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    path = tmp_path / "章程草案.docx"
    document.save(str(path))
    result = _cli("check", str(path), "--city", "南昌市")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# 章程合规检查报告：南昌市")
    assert "## 冲突（须修改）：1 项" in result.stdout and "nc-no-rename" in result.stdout
    assert "「合作期间，成员校可更名为“某某教育集团某某校”。」" in result.stdout


def test_draft_then_check_round_trip(tmp_path):
    out = tmp_path / "charter.docx"
    made = _cli("draft", "--city", "青岛市", "--type", "融合型", "-o", str(out))
    assert made.returncode == 0, made.stderr
    assert "已生成章程框架稿" in made.stdout and out.is_file()
    checked = _cli("check", str(out), "--city", "青岛市", "--json")
    data = json.loads(checked.stdout)
    assert data["group_type"] == "融合型" and data["passed"] is True


def test_draft_to_stdout_is_markdown():
    result = _cli("draft", "--city", "郑州市中原区", "--type", "项目型")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# 【集团名称】章程（项目型）（框架稿）")
    assert "> 依据：郑州市中原区《中原区推进公办中小学集团化办学实施方案（征求意见稿）》" in result.stdout


def test_suggest_lists_candidates_with_clause_and_quote():
    result = _cli("suggest", "--doc", "changsha-jituan-2020")
    assert result.returncode == 0, result.stderr
    assert "【待确认】" in result.stdout and "已收录：cs-term、cs-extension" in result.stdout
    assert "三、主要举措 › 5. 构建退出机制 › 限定合作时间" in result.stdout
    new = json.loads(_cli("suggest", "--doc", "changsha-jituan-2020", "--new", "--json").stdout)
    assert new and all(c["curated"] == [] and c["status"] == "待确认" for c in new)


def test_list_requirements():
    result = _cli("list", "--city", "南昌市", "--type", "城乡发展共同体", "--json")
    data = json.loads(result.stdout)
    assert {r["id"] for r in data} == {"ng-leadership", "ng-independence", "ng-plan", "ng-rotation",
                                       "ng-research", "ng-students"}


@pytest.mark.parametrize("args, message", [
    (("check", "nowhere.md", "--city", "长沙市"), "找不到文件"),
    (("check", str(DRAFTS / "qingdao-compliant.md"), "--city", "北京市"), "语料中没有北京市"),
    (("draft", "--city", "青岛市", "--type", "紧密型"), "可选类型"),
    (("draft", "--city", "长沙市", "-o", "charter.pdf"), ".md 或 .docx"),
    (("suggest", "--doc", "nope"), "没有文档"),
])
def test_errors_are_one_chinese_line(args, message):
    result = _cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("错误：") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
