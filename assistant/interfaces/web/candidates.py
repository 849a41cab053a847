"""Feedback from daily use becomes evaluation data: each 👎 answer as a candidate item in the gold-set format
of eval/gold.jsonl (id, split, type, question, cities, expected [{doc_id, clause, key_phrase}], reference),
with a `review` field holding what a person needs to check it before adding it to the set."""
from __future__ import annotations

import json
import time

from assistant.interfaces.web.store import Feedback


def _key_phrase(citation: dict) -> str:
    """A verbatim phrase of the clause: the quoted sentence, else the clause's first sentence."""
    text = citation.get("quote") or citation.get("text") or ""
    for stop in "。；;":
        head = text.split(stop)[0]
        if 6 <= len(head) < len(text):
            text = head
            break
    return text.strip()[:80]


def gold_candidate(item: Feedback) -> dict:
    """A 👎 answer as an item in the gold-set format of eval/gold.jsonl, for a person to review before adding:
    the cited clauses as the expected ones (unless they were reported wrong), the comment and reasons kept."""
    wrong_citations = "引用有误" in item.reasons
    should_refuse = "不该回答" in item.reasons
    expected = [] if (wrong_citations or should_refuse) else [
        {"doc_id": c["doc_id"], "clause": c["clause"], "key_phrase": _key_phrase(c)} for c in item.citations]
    todo = []
    if wrong_citations or "不该拒答" in item.reasons:
        todo.append("请补充正确的条款（doc_id、clause、key_phrase）")
    if "答案不完整" in item.reasons:
        todo.append("请核对期望条款是否齐全")
    return {
        "id": f"fb{item.id:05d}",
        "split": "dev",
        "type": "out_of_scope" if should_refuse else "fact",
        "question": item.question,
        "cities": list(item.cities),
        "expected": expected,
        "reference": "" if item.abstained else item.answer,
        "review": {"source": "feedback", "feedback_id": item.id, "rating": item.rating,
                   "reasons": list(item.reasons), "comment": item.comment, "answer": item.answer,
                   "abstained": item.abstained, "cited": [{"doc_id": c["doc_id"], "clause": c["clause"]}
                                                          for c in item.citations],
                   "corpus_hash": item.corpus_hash,
                   "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item.created)),
                   "todo": todo},
    }


def gold_candidates_jsonl(items: list[Feedback]) -> str:
    return "".join(json.dumps(gold_candidate(i), ensure_ascii=False) + "\n" for i in items if i.rating == "down")
