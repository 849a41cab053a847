"""Which versions a question is answered from, and what its citations record about them.

By default the versions in force today; `as_of` a day, those in force that day; `include_outdated`, every
version, each citation labelled. Every citation records the document's text hash, its version date and its
standing on the answer's day, and an answer quoting a version that is no longer (or not yet) the one in force
says so in a notice."""
from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.domain.values import Answer, Citation
from assistant.domain.versions import (IN_FORCE, current_version, describe, parse_day, start_day, state,
                                       state_label, states, today, version_date)
from assistant.errors import QuestionError


@dataclass(frozen=True)
class Versions:
    """The versions one request may cite."""

    on: str  # the day whose versions answer (YYYY-MM-DD)
    as_of: str | None  # the day the user asked about (None: today's versions)
    include_outdated: bool
    forces: dict  # doc_id → its standing on `on`
    visible: frozenset  # the documents searched


def resolve(docs: dict[str, dict], as_of=None, include_outdated: bool = False, now: str | None = None) -> Versions:
    """The versions for a request; a day before every document's start is refused with a clear message."""
    now = now or today()
    on = parse_day(as_of) if as_of else now
    forces = states(docs, on)
    visible = frozenset(docs) if include_outdated else frozenset(d for d, s in forces.items() if s in IN_FORCE)
    if as_of and docs and all(forces[d] == "not_yet" for d in docs):
        first = min((start_day(m), d) for d, m in docs.items())[1]
        raise QuestionError(f"{on} 时语料中还没有任何已施行的文件（最早的是《{docs[first]['title']}》，"
                            f"{version_date(docs[first])} 起施行），请换一个更晚的日期。")
    if as_of and not visible:
        raise QuestionError(f"{on} 时语料中没有施行中的文件（都已废止或被新版本取代）；如需查看历史版本，请选择包含旧版本。")
    return Versions(on, parse_day(as_of) if as_of else None, include_outdated, forces, visible)


def stamp(citation: Citation, docs: dict[str, dict], hashes: dict[str, str], versions: Versions) -> Citation:
    """The citation with the hash of its document's text, its version date and its standing."""
    meta = docs.get(citation.doc_id)
    if meta is None:
        return citation
    return replace(citation, doc_sha256=hashes.get(citation.doc_id, ""), version=version_date(meta) or "",
                   force=versions.forces.get(citation.doc_id, ""))


def notices(citations: tuple[Citation, ...], docs: dict[str, dict], versions: Versions,
            now: str | None = None) -> list[str]:
    """What the reader must know about the versions quoted: an outdated one (asked for), the version in force
    instead, a later version that is not in force yet, a version without a date on an "as of" question."""
    now = now or today()
    out: list[str] = []
    if versions.as_of:
        out.append(f"按 {versions.as_of} 时施行的版本回答。")
    undated: list[int] = []
    for c in citations:
        meta = docs.get(c.doc_id)
        if meta is None:
            continue
        force = versions.forces.get(c.doc_id, "")
        current = current_version(c.doc_id, docs, versions.on)
        if force not in IN_FORCE:
            instead = f"，{versions.on} 时施行的版本是{describe(current, docs, versions.on)}" if current and \
                current != c.doc_id else ""
            out.append(f"[{c.n}] 出自{state_label(force)}的版本{describe(c.doc_id, docs, versions.on)}{instead}，"
                       f"仅供对照。")
            continue
        successor = meta.get("superseded_by")
        if successor in docs and versions.forces.get(successor) == "not_yet":
            out.append(f"[{c.n}] 所引版本将被{describe(successor, docs, versions.on)}取代（尚未施行）。")
        if versions.as_of and versions.on != now:
            today_force = state(c.doc_id, docs, now)
            live = current_version(c.doc_id, docs, now)
            if today_force not in IN_FORCE:
                later = f"，现行版本为{describe(live, docs, now)}" if live and live != c.doc_id else ""
                out.append(f"[{c.n}] 所引版本今天的效力为“{state_label(today_force)}”{later}。")
        if versions.as_of and not start_day(meta):
            undated.append(c.n)
    if undated:
        numbers = "、".join(f"[{n}]" for n in undated)
        out.append(f"{numbers} 所引文件没有施行日期，无法判断 {versions.as_of} 时是否已施行，按有效处理。")
    return list(dict.fromkeys(out))


def stamped_answer(answer: Answer, docs: dict[str, dict], hashes: dict[str, str], versions: Versions) -> Answer:
    citations = tuple(stamp(c, docs, hashes, versions) for c in answer.citations)
    extra = notices(citations, docs, versions) if citations or versions.as_of else []
    return replace(answer, citations=citations, as_of=versions.as_of,
                   notices=tuple(dict.fromkeys((*answer.notices, *extra))))


def check_export(exported: dict, docs: dict[str, dict], hashes: dict[str, str], now: str | None = None) -> list[dict]:
    """For each citation of an exported answer (`Answer.to_dict()`): whether the cited text is still in the
    corpus unchanged, and whether that version is still the one in force."""
    now = now or today()
    forces = states(docs, now)
    out = []
    for c in exported.get("citations", []):
        doc_id = c.get("doc_id")
        entry = {"n": c.get("n"), "doc_id": doc_id, "title": c.get("title"), "version": c.get("version") or ""}
        if doc_id not in docs:
            out.append({**entry, "status": "missing", "message": f"[{c.get('n')}] 所引文件已不在语料中。"})
            continue
        sha = c.get("doc_sha256")
        if sha and hashes.get(doc_id) and sha != hashes[doc_id]:
            out.append({**entry, "status": "changed",
                        "message": f"[{c.get('n')}] 所引文件的文本已改变（哈希不同），答案需要重新生成。"})
            continue
        force = forces.get(doc_id, "")
        if force not in IN_FORCE:
            live = current_version(doc_id, docs, now)
            instead = f"，现行版本为{describe(live, docs, now)}" if live and live != doc_id else ""
            out.append({**entry, "status": "outdated", "force": force,
                        "message": f"[{c.get('n')}] 所引版本今天的效力为“{state_label(force)}”{instead}。"})
            continue
        out.append({**entry, "status": "current", "force": force,
                    "message": f"[{c.get('n')}] 所引版本仍然有效（{state_label(force)}）。"})
    return out
