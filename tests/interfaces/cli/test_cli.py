"""The console script, run as a real subprocess against a real index."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, ROOT, fresh_index, run_env, save_cache

pytestmark = pytest.mark.integration


def _cli(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory, shared_cache):
    index_dir = fresh_index(tmp_path_factory.mktemp("cli"), shared_cache)
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(index_dir))
    built = _cli("index", "build", env=env)
    assert built.returncode == 0, built.stderr
    assert "索引已就绪" in built.stdout
    save_cache(index_dir, shared_cache)
    return env


def test_ask_json_prints_the_answer_shape(cli_env):
    result = _cli("ask", "长沙集团化办学的合作期限是多久？", "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["abstained"] is False and data["mode"] == "extractive"
    assert "合作时限一般为六年" in data["citations"][0]["text"]


def test_ask_text_output_shows_clauses_and_draft_badge(cli_env):
    result = _cli("ask", "中原区的“五个一”工作制度包括什么？", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "引用条款" in result.stdout and "【征求意见稿】" in result.stdout
    assert "四、主要举措 › （三）建立教育集团工作制度" in result.stdout


def test_retrieve_with_city_and_k(cli_env):
    result = _cli("retrieve", "教师轮岗", "-k", "2", "--city", "青岛市", "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data) == 2 and {d["city"] for d in data} == {"青岛市"}


def test_errors_exit_non_zero_with_one_chinese_line(cli_env):
    result = _cli("ask", "   ", env=cli_env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("错误：") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_rebuild_from_corpus(cli_env):
    result = _cli("index", "build", "--rebuild", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "新嵌入 0 个" in result.stdout  # everything came from the embedding cache


def test_missing_corpus_is_a_clear_error(tmp_path):
    env = run_env(ASSISTANT_CORPUS_DIR=str(tmp_path / "nowhere"), ASSISTANT_INDEX_DIR=str(tmp_path / "i"))
    result = _cli("ask", "合作期限", env=env)
    assert result.returncode == 2 and "找不到语料清单" in result.stderr
