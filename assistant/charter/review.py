"""Requirements against the versions in force: a requirement was written from one version of a document; when
a newer version is in force, the clause it quotes is looked up there (clause-level diff, chunking/diff.py).

- Unchanged (perhaps renumbered or moved): the requirement now cites the version in force, at the clause's new
  place; `updated_from` names the version it was written from.
- Changed or gone: the requirement is flagged 需复核 (`review` says what happened, `current_text` gives the new
  wording); it keeps its source, so the check still explains itself, and every report that uses it shows the flag.
- A source document that is repealed or expired with no version in force: flagged as well."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from assistant.charter.requirements import RequirementBook, Requirement, Source
from assistant.chunking.diff import ClauseChange, Unit, diff_units, units
from assistant.domain.values import PATH_SEPARATOR
from assistant.domain.versions import IN_FORCE, current_version, describe, state_label, states, today


def reviewed(book: RequirementBook, on: str | None = None) -> RequirementBook:
    """The book with each requirement checked against the version of its source in force on day `on`."""
    on = on or today()
    docs = {d.doc_id: d.meta() for d in book.docs}
    forces = states(docs, on)
    texts = {d.doc_id: d.text for d in book.docs}
    requirements = tuple(_review(r, docs, forces, texts, on) for r in book.requirements)
    return replace(book, requirements=requirements, forces=tuple(sorted(forces.items())))


def _review(req: Requirement, docs: dict, forces: dict, texts: dict, on: str) -> Requirement:
    doc_id = req.source.doc_id
    if doc_id not in docs or forces.get(doc_id) in IN_FORCE:
        return req
    current = current_version(doc_id, docs, on)
    if current is None or current == doc_id:
        return replace(req, review=f"依据文件{describe(doc_id, docs, on)}{state_label(forces[doc_id])}，"
                                  f"{on} 时没有施行中的版本")
    old_units, changes = _diff(texts[doc_id], texts[current])
    unit = _unit_of(req.source.clause, old_units)
    change = next((c for c in changes if unit is not None and c.old == unit.where), None)
    newer = describe(current, docs, on)
    if change is None or change.kind == "removed":
        return replace(req, review=f"依据条款在新版本{newer}中已删除")
    if change.kind == "changed":
        kept = "引文仍在" if req.source.quote in change.new_text else "引文已改变"
        return replace(req, review=f"依据条款在新版本{newer}中已修改（{change.label}，{kept}）",
                       current_text=change.new_text)
    meta = docs[current]
    suffix = req.source.clause.split(PATH_SEPARATOR)[len(unit.path):]
    clause = PATH_SEPARATOR.join((*change.new.split(PATH_SEPARATOR), *suffix))
    source = Source(current, clause, req.source.quote, meta.get("title") or "", meta.get("doc_number"),
                    meta.get("status") or "official")
    return replace(req, source=source, updated_from=doc_id)


@lru_cache(maxsize=32)
def _diff(old_text: str, new_text: str) -> tuple[list[Unit], tuple[ClauseChange, ...]]:
    old = units(old_text)
    return old, diff_units(old, units(new_text))


def _unit_of(clause: str, found: list[Unit]) -> Unit | None:
    """The unit (article, or leaf clause) a requirement's clause path lies in."""
    path = tuple(clause.split(PATH_SEPARATOR))
    best = None
    for u in found:
        if path[:len(u.path)] == u.path and (best is None or len(u.path) > len(best.path)):
            best = u
    return best
