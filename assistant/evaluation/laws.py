"""The laws split (issue 15): questions on real regulations nobody here wrote, read from ../shared/laws/ at run
time and imported beside the bundled corpus (never copied into the repository), answered with the layers of
government a school is governed by. Reports hit@5, lead, refusal and whether each right citation carries the
right place and level.

eval/laws/documents.jsonl names the files (path under the laws folder, expected title, place, level);
eval/laws/questions.jsonl the questions (asker_place, expected file + key phrase, or none for must-refuse)."""
from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.config import PROJECT_ROOT
from assistant.domain.divisions import lineage
from assistant.evaluation.baseline import squash
from assistant.evaluation.run import lead_text

LAWS_EVAL = PROJECT_ROOT / "eval" / "laws"
# laws splits written for development: trained on and looked at (eval/laws and eval/laws2 stay untrained tests)
LAWS_TRAINING = ("laws3",)
DEFAULT_LAWS_DIR = PROJECT_ROOT.parent / "shared" / "laws"


@dataclass(frozen=True)
class LawResult:
    id: str
    type: str
    answerable: bool
    hit5: bool  # a right clause among the five retrieved
    lead: float  # share of key phrases in what the user reads first
    cited: bool  # the answer cites a right clause
    place_level: bool | None  # every right citation shows its document's place and level (None: none cited)
    abstained: bool
    foreign: tuple[str, ...]  # places cited that do not govern the asker's place (must be empty)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def prepare(make, work_dir: Path, laws_dir: Path, documents: list[dict], corpus_dir: Path | None = None):
    """The assistant (`make(corpus_dir, index_dir)`, the facade) over the bundled corpus plus the split's real
    regulations, imported as any user would (place, level and dates read from the text, nothing typed in).
    Idempotent: a second call imports nothing."""
    corpus = work_dir / "corpus"
    if not corpus.exists():
        shutil.copytree(corpus_dir or PROJECT_ROOT / "corpus", corpus)
    missing = [d["file"] for d in documents if not (laws_dir / d["file"]).is_file()]
    if missing:
        raise FileNotFoundError(f"法规目录 {laws_dir} 中缺少：{'、'.join(missing)}")
    assistant = make(corpus, work_dir / "index")
    report = assistant.ingest_many([str(laws_dir / d["file"]) for d in documents])
    failed = [r for r in report.results if r.outcome not in ("imported", "unchanged")]
    if failed:
        raise RuntimeError("法规导入失败：" + "；".join(f"{r.path}：{r.reason}" for r in failed))
    return assistant


def judge(assistant, documents: list[dict], item: dict) -> LawResult:
    by_file = {d["file"]: d for d in documents}
    expected = [(by_file[e["file"]], e["key_phrase"]) for e in item["expected"]]

    def right(c) -> dict | None:
        for doc, phrase in expected:
            if squash(c.title) == squash(doc["title"]) and squash(phrase) in squash(c.text):
                return doc
        return None

    # the asker's place as a principal sets it once in the place filter (the questions rarely repeat it)
    chosen = [item["asker_place"]] if item.get("asker_place") else None
    answer = assistant.ask(item["question"], cities=chosen)
    hits = assistant.retrieve(item["question"], k=5, cities=chosen)
    governing = {p.name for p in lineage(item["asker_place"])} if item.get("asker_place") else set()
    foreign = tuple(dict.fromkeys(c.city for c in answer.citations if governing and c.city not in governing))
    lead = lead_text(answer)
    matched = [(c, right(c)) for c in answer.citations]
    matched = [(c, doc) for c, doc in matched if doc is not None]
    return LawResult(
        id=item["id"], type=item["type"], answerable=bool(expected),
        hit5=any(right(c) for c in hits),
        lead=(sum(squash(p) in squash(lead) for _, p in expected) / len(expected)) if expected else 0.0,
        cited=bool(matched),
        place_level=all(c.city == doc["place"] and c.level == doc["level"] for c, doc in matched) if matched else None,
        abstained=answer.abstained, foreign=foreign)


def as_gold(assistant, documents: list[dict], questions: list[dict]) -> list[dict]:
    """A laws split's questions in the gold sets' form (doc_id, clause path, verbatim key phrase), resolved
    against the regulations as imported, so training reads them as it reads every development item. An expected
    article that cannot be found (the import split it differently) is dropped, never guessed."""
    snapshot = assistant.answerer.snapshot
    titles = {squash(d["title"]): d["file"] for d in documents}
    doc_file = {doc_id: titles.get(squash(doc.get("title") or "")) for doc_id, doc in snapshot.docs.items()}
    out = []
    for q in questions:
        expected = []
        for e in q["expected"]:
            # the key phrase as the imported text writes it (line breaks or spaces may sit inside it)
            pattern = re.compile(r"\s*".join(map(re.escape, "".join(e["key_phrase"].split()))))
            found = next(((r, m.group()) for r in snapshot.records if doc_file.get(r.doc_id) == e["file"]
                          for m in [pattern.search(r.text)] if m), None)
            if found:
                expected.append({"doc_id": found[0].doc_id, "clause": found[0].clause, "key_phrase": found[1]})
        if expected or not q["expected"]:
            out.append({**q, "cities": [], "expected": expected, "answer_terms": q.get("answer_terms", [])})
    return out


def metrics(results: list[LawResult]) -> dict:
    answerable = [r for r in results if r.answerable]
    refuse = [r for r in results if not r.answerable]
    placed = [r for r in answerable if r.place_level is not None]

    def mean(values) -> float | None:
        values = list(values)
        return round(sum(values) / len(values), 3) if values else None

    by_type: dict[str, list[LawResult]] = defaultdict(list)
    for r in answerable:
        by_type[r.type].append(r)
    return {
        "items": len(results), "answerable": len(answerable), "must_refuse": len(refuse),
        "hit_at_5": mean(r.hit5 for r in answerable),
        "lead": mean(r.lead for r in answerable),
        "cited": mean(r.cited for r in answerable),
        "place_level_correct": mean(r.place_level for r in placed),
        "refusal_accuracy": mean([*(not r.abstained for r in answerable), *(r.abstained for r in refuse)]),
        "no_foreign_citation": mean(not r.foreign for r in results),
        "by_type": {t: {"n": len(rs), "hit_at_5": mean(r.hit5 for r in rs), "lead": mean(r.lead for r in rs)}
                    for t, rs in sorted(by_type.items())},
    }


def training_sets(make, data_dir: Path, laws_dir: Path = DEFAULT_LAWS_DIR) -> list[tuple[object, list[dict]]]:
    """The laws development splits as (assistant over the bundled corpus plus their regulations, gold-form
    items), imported once into data_dir/eval-<split> and reused; none when the laws folder is absent."""
    sets = []
    for name in LAWS_TRAINING:
        split = LAWS_EVAL.parent / name
        if not laws_dir.is_dir() or not (split / "questions.jsonl").is_file():
            continue
        documents = read_jsonl(split / "documents.jsonl")
        assistant = prepare(make, data_dir / f"eval-{name}", laws_dir, documents)
        sets.append((assistant, as_gold(assistant, documents, read_jsonl(split / "questions.jsonl"))))
    return sets


def run_laws(make, work_dir: Path, laws_dir: Path = DEFAULT_LAWS_DIR, eval_dir: Path = LAWS_EVAL,
             progress=None) -> tuple[dict, list[LawResult]]:
    documents = read_jsonl(eval_dir / "documents.jsonl")
    questions = read_jsonl(eval_dir / "questions.jsonl")
    assistant = prepare(make, work_dir, laws_dir, documents)
    results = []
    for i, item in enumerate(questions, start=1):
        results.append(judge(assistant, documents, item))
        if progress:
            progress(i, len(questions))
    return metrics(results), results


def failures(results: list[LawResult]) -> list[dict]:
    """The items to look at: a miss, a wrong label, a refusal that should not be, or a foreign citation."""
    return [asdict(r) for r in results
            if (r.answerable and (not r.hit5 or r.lead < 1 or r.place_level is False or r.abstained))
            or (not r.answerable and not r.abstained) or r.foreign]
