"""Versions and validity: which text of a document was in force on a given day.

A document's catalogue entry (a manifest entry, or the `meta` the index keeps of it) may hold, besides its
kind (`status`: official / draft / interpretation):
  effective_date  the day it took effect (施行), else `adopted_date` (通过/修订) or `date` (成文) stand in;
  expiry_date     the first day it no longer applies (失效/废止), optional;
  validity        trial / interim / repealed, as its text or the user says;
  supersedes / superseded_by   the previous and the next version of the same document (its lineage).
From these and a day, `state` says where the document stood on that day; only the states in `IN_FORCE` are
answered from unless a user asks for the others, and then they are labelled. Pure functions over those dicts:
the corpus, the index, answering and charter checks all read validity the same way."""
from __future__ import annotations

import datetime as _dt
import re

from assistant.errors import QuestionError

# stored in a manifest entry and in the index's document metadata only when set, so that documents without
# them keep their index digests (effective_date, adopted_date and validity are metadata fields of their own)
VERSION_FIELDS = ("expiry_date", "supersedes", "superseded_by")

STATE_LABELS = {
    "in_force": "现行有效",
    "trial": "试行",
    "interim": "暂行",
    "draft": "征求意见稿",
    "interpretation": "政策解读",
    "amended": "已修正",
    "finalised": "征求意见稿（已定稿）",
    "repealed": "已废止",
    "expired": "已失效",
    "not_yet": "尚未施行",
}
# what answers, comparisons and charter checks use by default. A draft counts while no final text has taken
# its place: it is then the only text its place has, and it is always cited with its 征求意见稿 label.
IN_FORCE = frozenset({"in_force", "trial", "interim", "draft", "interpretation"})
OUTDATED = frozenset(STATE_LABELS) - IN_FORCE

_DAY = re.compile(r"^\s*(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?\s*$")
_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def today() -> str:
    return _dt.date.today().isoformat()


def parse_day(value: str | _dt.date) -> str:
    """A day as YYYY-MM-DD ("2023-9-1", "2023/09/01", "2023年9月1日" and date objects are accepted)."""
    if isinstance(value, _dt.date):
        return value.isoformat()
    m = _DAY.match(str(value or ""))
    try:
        if not m:
            raise ValueError
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        raise QuestionError(f"日期格式有误：{str(value)[:40]}（应为 YYYY-MM-DD，如 2023-09-01）") from None


def floor_day(value: str | None) -> str | None:
    """A catalogued date as the first day it can mean: "2021" → 2021-01-01, "2021-03" → 2021-03-01."""
    m = _PARTIAL.match(value or "")
    if not m:
        return None
    return f"{m.group(1)}-{m.group(2) or '01'}-{m.group(3) or '01'}"


def version_date(meta: dict) -> str | None:
    """The date a version is known by: its 施行 date, else its adoption, else its signing date (as catalogued).

    An amended regulation often still states the day its first text took effect (行政复议法 2017 修正:
    施行 1999-10-01); a 施行 date before the version's own adoption is that first text's, so the adoption
    (修正/修订) date stands for the version instead."""
    effective, adopted = meta.get("effective_date"), meta.get("adopted_date")
    if effective and adopted and (floor_day(str(effective)) or "") < (floor_day(str(adopted)) or ""):
        return str(adopted)
    for key in ("effective_date", "adopted_date", "date"):
        if meta.get(key):
            return str(meta[key])
    return None


def start_day(meta: dict) -> str | None:
    """The first day the version applies; None when the catalogue gives no date (then it counts at any day)."""
    return floor_day(version_date(meta))


def state(doc_id: str, docs: dict[str, dict], on: str) -> str:
    """Where the document stood on day `on` (YYYY-MM-DD): a key of STATE_LABELS."""
    meta = docs[doc_id]
    start = start_day(meta)
    if start and start > on:
        return "not_yet"
    end = floor_day(meta.get("expiry_date"))
    if meta.get("validity") == "repealed" and (end is None or end <= on):
        return "repealed"
    if end and end <= on:
        return "expired"
    successor = meta.get("superseded_by")
    if successor in docs and successor != doc_id:
        begins = start_day(docs[successor])
        if begins is None or begins <= on:
            return "finalised" if meta.get("status") == "draft" else "amended"
    status = meta.get("status")
    if status == "interpretation":
        target = meta.get("interprets")
        if target in docs and target != doc_id and docs[target].get("status") != "interpretation":
            of_target = state(target, docs, on)
            if of_target not in IN_FORCE:  # an interpretation stands or falls with the text it explains
                return of_target
        return "interpretation"
    if status == "draft":
        return "draft"
    if meta.get("validity") in ("trial", "interim"):
        return meta["validity"]
    return "in_force"


def states(docs: dict[str, dict], on: str) -> dict[str, str]:
    return {doc_id: state(doc_id, docs, on) for doc_id in docs}


def in_force(docs: dict[str, dict], on: str) -> set[str]:
    return {doc_id for doc_id, s in states(docs, on).items() if s in IN_FORCE}


def lineage(doc_id: str, docs: dict[str, dict]) -> list[str]:
    """The versions of the document, oldest first (a broken or cyclic link ends the walk)."""
    chain = [doc_id]
    seen = {doc_id}
    current = doc_id
    while (previous := docs.get(current, {}).get("supersedes")) in docs and previous not in seen:
        chain.insert(0, previous)
        seen.add(previous)
        current = previous
    current = doc_id
    while (following := docs.get(current, {}).get("superseded_by")) in docs and following not in seen:
        chain.append(following)
        seen.add(following)
        current = following
    return chain


def current_version(doc_id: str, docs: dict[str, dict], on: str) -> str | None:
    """The version of this document's lineage in force on `on` (the newest such), or None."""
    live = [d for d in lineage(doc_id, docs) if state(d, docs, on) in IN_FORCE]
    return live[-1] if live else None


def describe(doc_id: str, docs: dict[str, dict], on: str) -> str:
    """'《title》（2024-01-01 施行）', for notices that name a version."""
    meta = docs[doc_id]
    when = version_date(meta)
    return f"《{meta.get('title')}》" + (f"（{when}）" if when else "")
