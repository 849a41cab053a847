"""LLM mode end to end against a real OpenAI-compatible server process on loopback: llama.cpp from the
`xllamacpp` wheel with the Gemma 3 270M GGUF from PyPI. It proves the wiring (LangChain client,
streaming, checks, fallback, CLI), not answer quality: a 270M model mostly echoes its prompt."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.answering.llm import UNVERIFIED, LLMClient, generate
from assistant.domain.values import Answer, Citation

from tests.conftest import CORPUS, ROOT, free_port, fresh_index, run_env, stop_process, wait_for_http

pytestmark = pytest.mark.integration

TERM = "限定合作时间。集团化学校合作时限一般为六年。合作期满后，经评估合格的可以续约。"
SOURCE = Citation(chunk_id="c1", doc_id="changsha", title="关于推进集团化办学的实施意见", city="长沙市",
                  doc_number="长教通〔2020〕97号", clause="三、主要举措 › 5. 构建退出机制 › 限定合作时间",
                  status="official", text=TERM, score=1.0, n=1, quote="集团化学校合作时限一般为六年。")
FALLBACK = Answer(question="q", answer="「集团化学校合作时限一般为六年。」[1]", abstained=False, citations=(SOURCE,))
# llama.cpp takes a GBNF grammar in the request body: the model still writes every token, but the
# answer's shape is fixed, so each check meets a known case (a real marker, a fabricated quote, a
# marker naming no source)
GRAMMAR = r'''root ::= free "[1]。「" free "虚构」[1]。见[9]。"
free ::= [^「」“”\[\]［］【】<>。！？；\n]{1,4}
'''


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory):
    port = free_port()
    model = tmp_path_factory.mktemp("gguf") / "gemma-3-270m-q4_k_m.gguf"
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "support" / "llama_server.py"), str(port), str(model)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", proc, 120)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(proc)


def _settings(url: str, **overrides) -> Settings:
    values = dict(corpus_dir=Path("."), index_dir=Path("."), llm_base_url=url, llm_model="gemma-3-270m",
                  llm_timeout=60.0, llm_max_tokens=32, llm_temperature=0.0)
    values.update(overrides)
    return Settings(**values)


def test_a_real_model_streams_and_its_answer_is_checked(llama_url):
    # a grammar that admits only a real marker: the model's answer must come through as an LLM answer
    grammar = 'root ::= free "[1]。"\nfree ::= [^「」“”\\[\\]［］【】<>。！？；\\n]{2,8}\n'
    settings = _settings(llama_url, llm_extra_body=json.dumps({"grammar": grammar}))
    start = time.monotonic()
    items, arrivals = [], []
    for item in generate(LLMClient(settings), "长沙集团化办学的合作期限是多久？", (SOURCE,), FALLBACK, {}):
        items.append(item)
        arrivals.append(time.monotonic() - start)
    deltas, final = items[:-1], items[-1]
    assert len(deltas) >= 5 and all(isinstance(d, str) for d in deltas), "tokens arrive one by one"
    assert arrivals[-2] > arrivals[0], "streamed, not delivered at once"
    assert isinstance(final, Answer) and final.mode == "llm", final.notices
    assert re.fullmatch(r"[^\[\]]{2,8}\[1\]。", final.answer), final.answer
    assert [c.n for c in final.citations] == [1] and final.unverified == 0
    print(f"\nreal model: first delta {arrivals[0]:.2f} s, answer {arrivals[-1]:.2f} s, {len(deltas)} deltas, "
          f"mode {final.mode}")


def test_cli_llm_mode_end_to_end_with_a_real_model(llama_url, tmp_path, shared_cache):
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(fresh_index(tmp_path, shared_cache)),
                  ASSISTANT_LLM_BASE_URL=llama_url, ASSISTANT_LLM_MODEL="gemma-3-270m",
                  ASSISTANT_LLM_MAX_TOKENS="64", ASSISTANT_LLM_EXTRA_BODY=json.dumps({"grammar": GRAMMAR}),
                  ASSISTANT_TOP_K="3")
    result = subprocess.run([sys.executable, "-m", "assistant", "ask", "长沙集团化办学的合作期限是多久？", "--mode", "llm"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    draft, checked = result.stdout.split("——核对后的回答——\n")
    assert re.search(r"\[1\]。「[^」]+虚构」\[1\]。见\[9\]。", draft), "the model's own text, streamed as written"
    first_line = checked.splitlines()[0]
    assert "[9]" not in first_line and f"虚构」{UNVERIFIED}[1]。" in first_line
    assert "提示：回答中引用了不存在的来源[9]，已删除。" in checked
    assert "未核实" in checked and "引用条款" in checked
    assert re.search(r"^\[1\] 长沙市·市级｜", checked, re.M), "the cited clause is listed, with its level"
