"""Ranking is not fragile as the corpus grows: adding ~1,000 clauses of other cities (synthetic documents built
from real clauses, benchmarks/synth.py) leaves the single-city answers within 2 points."""
from __future__ import annotations

import json
import shutil

import pytest

from assistant.config import Settings
from assistant.evaluation.run import SINGLE_CITY, _is_gold, lead_text
from assistant.evaluation.baseline import squash
from assistant.interfaces.facade import Assistant
from benchmarks import synth

from tests.conftest import CORPUS, ROOT, fresh_index

pytestmark = pytest.mark.integration

GOLD = [json.loads(line) for name in ("gold.jsonl", "blind-dev.jsonl")
        for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
ITEMS = [g for g in GOLD if g["type"] in SINGLE_CITY and "heldout" not in g["split"]
         and all("clause" in e for e in g["expected"])]


def _figures(assistant: Assistant) -> tuple[float, float]:
    cited = lead = 0.0
    for item in ITEMS:
        answer = assistant.ask(item["question"])
        cited += any(_is_gold(c.doc_id, c.clause, c.text, e) for c in answer.citations for e in item["expected"])
        text = squash(lead_text(answer))
        lead += sum(squash(e["key_phrase"]) in text for e in item["expected"]) / len(item["expected"])
    return cited / len(ITEMS), lead / len(ITEMS)


def test_a_thousand_clauses_of_other_cities_leave_single_city_answers_within_two_points(tmp_path, shared_cache):
    grown = tmp_path / "grown"
    shutil.copytree(CORPUS, grown)
    extra = synth.documents(60)
    manifest = json.loads((grown / "manifest.json").read_text(encoding="utf-8"))
    synth.write_corpus(extra, grown)  # writes docs/*.txt and a manifest of the synthetic documents only
    added = json.loads((grown / "manifest.json").read_text(encoding="utf-8"))["documents"]
    manifest["documents"] += added
    (grown / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    # clause-only embedding context and no sentence vectors: the synthetic clauses repeat seed clauses, so
    # their vectors come from the cache (the same settings on both sides keep the comparison fair)
    def assistant(corpus, name):
        settings = Settings.from_env(corpus_dir=corpus, index_dir=fresh_index(tmp_path / name, shared_cache),
                                     embed_context="clause", sentence_vectors=False)
        return Assistant(settings=settings).open()

    base = assistant(CORPUS, "base")
    big = assistant(grown, "grown")
    added_clauses = len(big.snapshot.records) - len(base.snapshot.records)
    assert added_clauses >= 1000
    assert len(big.cities) > len(base.cities) + 10
    (cited_before, lead_before), (cited_after, lead_after) = _figures(base), _figures(big)
    print(f"\n+{added_clauses} clauses: cited {cited_before:.3f} → {cited_after:.3f}, "
          f"lead {lead_before:.3f} → {lead_after:.3f} over {len(ITEMS)} questions")
    assert cited_after >= cited_before - 0.02
    assert lead_after >= lead_before - 0.02
