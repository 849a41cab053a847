"""Evaluation on the gold set: clause-level retrieval metrics for several pipeline variants (and a naive
baseline), answer metrics (citations, key phrases, abstention, per-city coverage), latency, and breakdowns
by split, question type and city."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.evaluation.baseline import NaivePipeline, squash
from assistant.index.cache import EmbeddingCache
from assistant.errors import AssistantError

KS = (1, 3, 5, 10)
UNANSWERABLE = ("not_in_city", "out_of_scope", "must_refuse")
# questions about one city answered by its clauses (retrieval is scored on these)
SINGLE_CITY = ("fact", "colloquial", "lookup", "numeric", "paraphrase", "list", "approval", "prohibition",
               "negation", "traditional", "english", "multi_part", "city", "provincial_for_city", "national")
TYPE_LABELS = {"fact": "事实", "colloquial": "口语化", "lookup": "条款号查询", "numeric": "数字",
               "paraphrase": "换种说法", "list": "列举", "approval": "审批与报备", "prohibition": "能否/禁止",
               "negation": "否定问法", "traditional": "繁体", "english": "英文", "multi_part": "多问合一",
               "document_meta": "文件本身", "which_city": "哪个城市", "compare": "跨城市对比",
               "not_in_city": "本地未规定", "out_of_scope": "超出范围", "city": "本市法规",
               "provincial_for_city": "省级法规（市内学校）", "national": "国家法律", "must_refuse": "应拒答"}
TYPES = tuple(TYPE_LABELS)
# under eval/: the default sets (blind-dev12.jsonl stays out: the current validation split, never trained)
GOLD_FILES = ("gold.jsonl", "blind-dev.jsonl", "blind-dev2.jsonl", "blind-dev3.jsonl", "blind-dev4.jsonl",
              "blind-dev5.jsonl", "blind-dev6.jsonl", "blind-dev7.jsonl", "blind-dev8.jsonl", "blind-dev9.jsonl",
              "blind-dev10.jsonl", "blind-dev11.jsonl", "blind-heldout.jsonl")
# retrieval variants: (name, label, how to call Assistant.retrieve)
VARIANTS = {
    "hybrid": ("混合检索 + 二次排序（默认）", {}),
    "no_rerank": ("混合检索，无二次排序", {"rerank": False}),
    "dense": ("仅向量", {"mode": "dense"}),
    "bm25": ("仅 BM25", {"mode": "bm25"}),
    "no_city": ("混合，不识别城市", {"detect_places": False}),
    "city_filter": ("混合，用户选定城市", {"use_gold_cities": True}),
    "naive": ("朴素基线（RecursiveCharacterTextSplitter + Chroma）", {}),
}


class GoldError(AssistantError):
    pass


@dataclass(frozen=True)
class ItemResult:
    id: str
    split: str
    type: str
    question: str
    cities: tuple[str, ...]
    expected: int  # number of expected clauses
    ranks: dict  # variant -> rank (1-based) of each expected clause in the top 10, or None
    abstained: bool
    cited: int
    cited_gold: int
    expected_cited: int
    key_phrases_in_answer: int
    cities_cited: tuple[str, ...]
    ask_ms: float
    retrieve_ms: float
    mode: str = "extractive"
    unverified: int = 0  # LLM mode: sentences whose quotes could not be verified
    sentences: int = 0
    lead: float = 0.0  # share of the key phrases found in what the user reads first (conclusion, first quotes)
    conclusion: str = ""
    conclusion_correct: bool | None = None  # None: no conclusion line shown, or nothing to check it against

    @property
    def answerable(self) -> bool:
        return self.expected > 0


def load_gold(paths) -> list[dict]:
    """Items of one gold file or several (ids must be unique across them)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    items = [item for path in paths for item in _load_one(Path(path))]
    seen: set[str] = set()
    for item in items:
        if item["id"] in seen:
            raise GoldError(f"评测集中的题目编号重复：{item['id']}")
        seen.add(item["id"])
    return items


def _load_one(path: Path) -> list[dict]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"无法读取评测集 {path}：{exc.__class__.__name__}") from exc
    items = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            _ = item["id"], item["question"], item["type"], item["expected"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise GoldError(f"评测集第 {n} 行格式错误：{exc.__class__.__name__}") from exc
        item.setdefault("split", "dev")
        item.setdefault("cities", [])
        item.setdefault("answer_terms", [])
        items.append(item)
    if not items:
        raise GoldError(f"评测集 {path} 为空。")
    return items


def _is_gold(doc_id: str, clause: str | None, text: str, expected: dict) -> bool:
    if doc_id != expected["doc_id"]:
        return False
    if "field" in expected:  # a question about the document itself: citing the document is right
        return True
    if clause is None:  # naive chunks have no clause path: the key phrase must be inside the chunk
        return squash(expected["key_phrase"]) in squash(text)
    return clause == expected["clause"] and expected["key_phrase"] in text


def lead_text(answer) -> str:
    """What a user reads first: the conclusion line, then each city's first quote."""
    if answer.abstained:
        return ""
    firsts: dict[str, str] = {}
    for c in answer.citations:
        firsts.setdefault(c.city, c.quote)
    return "\n".join([answer.conclusion, *firsts.values()])


def _conclusion_correct(conclusion: str, terms: list[str]) -> bool | None:
    if not conclusion or not terms:
        return None
    return all(squash(t) in squash(conclusion) for t in terms)


def _ranks(found: list[tuple[str, str | None, str]], expected: list[dict]) -> list[int | None]:
    ranks = []
    for e in expected:
        rank = next((i for i, (d, c, t) in enumerate(found, start=1) if _is_gold(d, c, t, e)), None)
        ranks.append(rank)
    return ranks


def evaluate_item(assistant, item: dict, naive: NaivePipeline | None, mode: str | None = None,
                  ablations: bool = True) -> ItemResult:
    expected = item["expected"]
    ranks: dict[str, list[int | None]] = {}
    retrieve_ms = 0.0
    keyed = [e for e in expected if "clause" in e]  # retrieval is scored on clause-keyed expectations
    if keyed:
        for name, (_, options) in VARIANTS.items():
            if not ablations and name not in ("hybrid", "naive"):
                continue
            if name == "naive":
                if naive is not None:
                    ranks[name] = _ranks([(h.doc_id, None, h.text) for h in naive.search(item["question"], 10)],
                                         keyed)
                continue
            kwargs = {k: v for k, v in options.items() if k != "use_gold_cities"}
            if options.get("use_gold_cities"):
                kwargs["cities"] = item["cities"] or None
            start = time.perf_counter()
            citations = assistant.retrieve(item["question"], k=10, **kwargs)
            if name == "hybrid":
                retrieve_ms = (time.perf_counter() - start) * 1000
            ranks[name] = _ranks([(c.doc_id, c.clause, c.text) for c in citations], keyed)
    start = time.perf_counter()
    answer = assistant.ask(item["question"], mode=mode)
    ask_ms = (time.perf_counter() - start) * 1000
    cited_gold = sum(any(_is_gold(c.doc_id, c.clause, c.text, e) for e in expected) for c in answer.citations)
    expected_cited = sum(any(_is_gold(c.doc_id, c.clause, c.text, e) for c in answer.citations) for e in expected)
    in_answer = sum(e["key_phrase"] in answer.answer for e in expected)
    lead = lead_text(answer)
    in_lead = sum(squash(e["key_phrase"]) in squash(lead) for e in expected)
    return ItemResult(
        id=item["id"], split=item["split"], type=item["type"], question=item["question"],
        cities=tuple(item["cities"]), expected=len(expected), ranks=ranks, abstained=answer.abstained,
        cited=len(answer.citations), cited_gold=cited_gold, expected_cited=expected_cited,
        key_phrases_in_answer=in_answer, cities_cited=tuple(dict.fromkeys(c.city for c in answer.citations)),
        ask_ms=round(ask_ms, 2), retrieve_ms=round(retrieve_ms, 2), mode=answer.mode,
        unverified=answer.unverified, sentences=answer.sentences,
        lead=round(in_lead / len(expected), 4) if expected else 0.0, conclusion=answer.conclusion,
        conclusion_correct=_conclusion_correct(answer.conclusion, item["answer_terms"]))


# ---------------------------------------------------------------- metrics
def _mean(values) -> float | None:
    values = list(values)
    return round(float(np.mean(values)), 4) if values else None


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def retrieval_metrics(results: list[ItemResult], variant: str) -> dict:
    scored = [r for r in results if r.answerable and variant in r.ranks and r.ranks[variant]]
    out: dict[str, float | None] = {}
    for k in KS:
        out[f"recall@{k}"] = _mean(sum(1 for x in r.ranks[variant] if x and x <= k) / len(r.ranks[variant])
                                   for r in scored)
    out["mrr@10"] = _mean(1.0 / min((x for x in r.ranks[variant] if x), default=float("inf")) for r in scored)
    out["items"] = len(scored)
    return out


def answer_metrics(results: list[ItemResult]) -> dict:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if not r.abstained and r.cited]
    compare = [r for r in results if r.type == "compare"]
    true_abstain = sum(r.abstained for r in unanswerable)
    false_abstain = sum(r.abstained for r in answerable)
    out_of_scope = [r for r in results if r.type == "out_of_scope"]
    not_in_city = [r for r in results if r.type == "not_in_city"]
    latencies = [r.ask_ms for r in results]
    retrieve_latencies = [r.retrieve_ms for r in results if r.answerable]
    return {
        "items": len(results),
        "citation_precision": _mean(r.cited_gold / r.cited for r in answered),
        "citation_recall": _mean(r.expected_cited / r.expected for r in answerable),
        "key_phrase_coverage": _mean(r.key_phrases_in_answer / r.expected for r in answerable),
        "lead": _mean(r.lead for r in answerable),
        "cited_any": _mean(float(r.expected_cited > 0) for r in answerable),
        "refusal_accuracy": _mean(float(r.abstained != r.answerable) for r in results),
        "conclusion_shown": _mean(float(bool(r.conclusion)) for r in answerable),
        "conclusion_correct": _mean(float(r.conclusion_correct) for r in answerable
                                    if r.conclusion_correct is not None),
        "abstention_precision": _ratio(true_abstain, true_abstain + false_abstain),
        "abstention_recall": _ratio(true_abstain, len(unanswerable)),
        "out_of_scope_abstention": _ratio(sum(r.abstained for r in out_of_scope), len(out_of_scope)),
        "not_in_city_abstention": _ratio(sum(r.abstained for r in not_in_city), len(not_in_city)),
        "false_abstentions": false_abstain,
        "compare_city_coverage": _mean(len(set(r.cities) & set(r.cities_cited)) / len(r.cities)
                                       for r in compare if r.cities),
        "compare_all_cities": _mean(float(set(r.cities) <= set(r.cities_cited)) for r in compare if r.cities),
        "llm_answers": sum(r.mode == "llm" for r in results),
        "unverified_share": _ratio(sum(r.unverified for r in results if r.mode == "llm"),
                                   sum(r.sentences for r in results if r.mode == "llm")),
        "ask_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "ask_p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        "retrieve_p50_ms": round(float(np.percentile(retrieve_latencies, 50)), 1) if retrieve_latencies else None,
        "retrieve_p95_ms": round(float(np.percentile(retrieve_latencies, 95)), 1) if retrieve_latencies else None,
    }


def headline(results: list[ItemResult]) -> dict:
    """The numbers the CI gate and the README track (see eval/thresholds.toml)."""
    single = [r for r in results if r.type in SINGLE_CITY]
    hybrid = retrieval_metrics(single, "hybrid")
    answers = answer_metrics(results)
    return {
        "single_city_recall_at_5": hybrid["recall@5"],
        "single_city_mrr_at_10": hybrid["mrr@10"],
        "recall_at_5": retrieval_metrics(results, "hybrid")["recall@5"],
        "citation_precision": answers["citation_precision"],
        "citation_recall": answers["citation_recall"],
        "key_phrase_coverage": answers["key_phrase_coverage"],
        "lead": answers["lead"],
        "cited_any": answers["cited_any"],
        "refusal_accuracy": answers["refusal_accuracy"],
        "conclusion_shown": answers["conclusion_shown"],
        "conclusion_correct": answers["conclusion_correct"],
        "compare_all_cities": answers["compare_all_cities"],
        "out_of_scope_abstention": answers["out_of_scope_abstention"],
        "abstention_precision": answers["abstention_precision"],
        "abstention_recall": answers["abstention_recall"],
        "false_abstentions": answers["false_abstentions"],
        "ask_p95_ms": answers["ask_p95_ms"],
        "unverified_share": answers["unverified_share"],
    }


def _city_groups(results: list[ItemResult]) -> dict[str, list[ItemResult]]:
    groups: dict[str, list[ItemResult]] = {}
    for r in results:
        key = r.cities[0] if len(r.cities) == 1 else ("多城市" if r.cities else "未指定城市")
        groups.setdefault(key, []).append(r)
    return groups


def breakdown(results: list[ItemResult]) -> dict:
    variants = sorted({v for r in results for v in r.ranks}, key=list(VARIANTS).index)

    def block(rs: list[ItemResult]) -> dict:
        return {"retrieval": {v: retrieval_metrics(rs, v) for v in variants}, "answers": answer_metrics(rs),
                "headline": headline(rs)}

    splits = {s: [r for r in results if r.split == s] for s in dict.fromkeys(r.split for r in results)}
    return {
        "all": block(results),
        "splits": {s: block(rs) for s, rs in splits.items() if rs},
        "types": {t: block([r for r in results if r.type == t]) for t in TYPES if any(r.type == t for r in results)},
        "cities": {c: block(rs) for c, rs in _city_groups(results).items()},
    }


@dataclass(frozen=True)
class EvalRun:
    results: tuple[ItemResult, ...]
    metrics: dict
    config: dict
    seconds: float
    naive_chunks: int | None = None
    extra: dict = field(default_factory=dict)


def run_eval(assistant, gold: list[dict], naive: bool = True, mode: str | None = None,
             progress=None, ablations: bool = True) -> EvalRun:
    """Evaluate `assistant` on `gold`; `progress(done, total)` is called after each item. Without `ablations`
    retrieval is scored for the default pipeline (and the naive baseline) only: the other variants cost four more
    searches per item and gate nothing."""
    start = time.perf_counter()
    pipeline = None
    if naive:
        cache = EmbeddingCache(assistant.settings.cache_dir / "embeddings.sqlite")
        from assistant.corpus.manifest import load_corpus

        pipeline = NaivePipeline(load_corpus(assistant.settings.corpus_dir), assistant.embedder, cache)
    try:
        results = []
        for i, item in enumerate(gold, start=1):
            results.append(evaluate_item(assistant, item, pipeline, mode, ablations))
            if progress:
                progress(i, len(gold))
    finally:
        if pipeline is not None:
            pipeline.close()
    config = run_config(assistant, mode or assistant.settings.default_mode)
    return EvalRun(tuple(results), breakdown(results), config, round(time.perf_counter() - start, 1),
                   pipeline.chunks if pipeline else None)


def run_config(assistant, mode: str) -> dict:
    import subprocess

    settings = {k: str(v) for k, v in asdict(assistant.settings).items()}
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                timeout=5, cwd=Path(__file__).resolve().parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    manifest = assistant.snapshot.manifest
    return {"embedder": assistant.embedder.model_id, "mode": mode, "settings": settings,
            "corpus_hash": manifest.get("corpus_hash"), "git_commit": commit,
            "clauses": len(assistant.snapshot.records)}
