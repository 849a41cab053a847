"""Version lineage in the manifest: which document a new file is a version of, where it goes in that document's
chain of versions, and the links after an import or a removal. Pure functions over manifest entries.

A file is a version of a document already in the corpus when it governs the same place and has the same title
once version marks are set aside (（征求意见稿）, （2023年修订）…), or the same 文号 series (长教通〔2020〕97号 and
长教通〔2023〕12号) with a nearly identical title; or when the user names the document (`--supersedes ID`). It is
placed in the chain by its date (施行, else adopted, else signed): usually after the newest version, which it then
supersedes; an older version imported later goes before the versions it precedes. A final text goes after a
draft of the same document. The same version again (same date and kind) is the same document: it replaces that
entry, as before versions existed."""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from assistant.domain.versions import floor_day, lineage as chain, version_date
from assistant.errors import DocumentNotFoundError, IngestError

_VERSION_MARK = re.compile(
    r"\s*[（(](?:征求意见稿|意见征求稿|草案|草案稿|送审稿|讨论稿|试行|暂行|修订稿|修订|修正|修订版|"
    r"(?:19|20)\d{2}\s*年?\s*(?:修订|修正)?\s*(?:版|本)?)[）)]\s*$")
_AMENDMENT = re.compile(r"修正|修订|修改")
_HEAD_LINES = 15
_SERIES_TITLE_RATIO = 0.8


def base_title(title: str | None) -> str:
    """The title without version marks: 中原区…实施方案（征求意见稿） → 中原区…实施方案."""
    text = re.sub(r"^#+\s*", "", (title or "").strip())
    while True:
        stripped = _VERSION_MARK.sub("", text)
        if stripped == text:
            return re.sub(r"\s+", "", text)
        text = stripped


def series(doc_number: str | None) -> str | None:
    """The 文号 series: 长教通〔2020〕97号 → 长教通."""
    m = re.match(r"^\s*([\u4e00-\u9fff]{1,15})\s*[〔\[［【(（]", doc_number or "")
    return m.group(1) if m else None


def amendment_note(text: str) -> bool:
    """The head of the text says it was amended (…修正, …修订, 根据…修改)."""
    head = [ln for ln in text.splitlines() if ln.strip()][:_HEAD_LINES]
    return any(_AMENDMENT.search(line) for line in head)


def related(meta, entry: dict) -> bool:
    """Whether a manifest entry is a version of the document `meta` describes."""
    if not meta.city or entry.get("city") != meta.city:
        return False
    if (meta.status == "interpretation") != (entry.get("status") == "interpretation"):
        return False  # an interpretation is not a version of the text it explains
    if meta.doc_number and entry.get("doc_number") == meta.doc_number:
        return True
    mine, theirs = base_title(meta.title), base_title(entry.get("title"))
    if mine and mine == theirs:
        return True
    same_series = series(meta.doc_number) and series(meta.doc_number) == series(entry.get("doc_number"))
    return bool(same_series and mine and theirs and
                SequenceMatcher(None, mine, theirs).ratio() >= _SERIES_TITLE_RATIO)


@dataclass(frozen=True)
class Placement:
    """Where a file goes among the versions of a document."""

    supersedes: str | None = None  # the version before it
    superseded_by: str | None = None  # the version after it (an older version imported after a newer one)
    same: dict | None = None  # an entry that is this very version: the file replaces it
    reason: str = ""  # how the lineage was recognised, for the preview

    @property
    def links(self) -> bool:
        return bool(self.supersedes or self.superseded_by)


def _newer(meta, entry: dict) -> bool:
    """Whether the file (meta) is a later version than the entry: by date; a final after its draft; else (same or
    unknown dates) the newcomer is the newer."""
    mine, theirs = floor_day(version_date(meta.to_dict())), floor_day(version_date(entry))
    if mine and theirs and mine != theirs:
        return mine > theirs
    drafts = (meta.status == "draft", entry.get("status") == "draft")
    if drafts == (False, True):
        return True  # a final text comes after its draft
    return drafts != (True, False)


def _same_version(meta, entry: dict) -> bool:
    if entry.get("status") != meta.status:
        return False
    mine, theirs = version_date(meta.to_dict()), version_date(entry)
    if mine and theirs:
        return mine == theirs
    return not mine and not theirs and bool(meta.doc_number) and entry.get("doc_number") == meta.doc_number


def detect(meta, entries: list[dict], text: str, own_id: str | None = None) -> Placement:
    """The place of a new file among the versions of a document already in the corpus (none: a new document)."""
    by_id = {e["doc_id"]: e for e in entries}
    candidates = [e for e in entries if e["doc_id"] != own_id and related(meta, e)]
    if not candidates:
        return Placement()
    # the chain of the most recently listed related document (normally all related entries share one chain)
    versions = [d for d in chain(candidates[-1]["doc_id"], by_id) if d != own_id]
    same = next((by_id[d] for d in versions if _same_version(meta, by_id[d])), None)
    if same is not None:
        return Placement(same=same, reason="同一版本（标题、日期与类型相同）")
    position = 0
    while position < len(versions) and _newer(meta, by_id[versions[position]]):
        position += 1
    before = versions[position - 1] if position else None
    after = versions[position] if position < len(versions) else None
    how = "文号系列相同" if series(meta.doc_number) and any(
        series(e.get("doc_number")) == series(meta.doc_number) for e in candidates) else "标题与地区相同"
    if amendment_note(text):
        how += "，正文注明修正/修订"
    return Placement(before, after, reason=how)


def explicit(supersedes: str, entries: list[dict], own_id: str | None = None) -> Placement:
    """`--supersedes ID`: checked so that every document keeps at most one next version and no chain loops."""
    by_id = {e["doc_id"]: e for e in entries}
    if supersedes not in by_id:
        raise DocumentNotFoundError(f"要取代的文档不存在：{str(supersedes)[:80]}（可用 policy-assistant docs list 查看）")
    if supersedes == own_id:
        raise IngestError("文档不能取代它自己（--supersedes 指向了同一份文档）")
    old = by_id[supersedes]
    successor = old.get("superseded_by")
    if successor and successor != own_id:
        title = by_id.get(successor, {}).get("title", successor)
        raise IngestError(f"《{old['title']}》（{supersedes}）已被《{title}》（{successor}）取代，一个版本只能有一个新版本；"
                          f"如要导入更新的版本，请用 --supersedes {successor}")
    if own_id is not None and supersedes in _later(own_id, by_id):
        raise IngestError(f"版本关系不能成环：{supersedes} 是 {own_id} 的新版本，不能再被它取代")
    return Placement(supersedes=supersedes, reason=f"按 --supersedes 指定取代 {supersedes}")


def _later(doc_id: str, by_id: dict[str, dict]) -> list[str]:
    """The versions after `doc_id`, following superseded_by (stopping at a loop)."""
    out: list[str] = []
    current = doc_id
    while (following := by_id.get(current, {}).get("superseded_by")) in by_id and following not in out \
            and following != doc_id:
        out.append(following)
        current = following
    return out


def relink(entries: list[dict], doc_id: str, supersedes: str | None, superseded_by: str | None) -> list[dict]:
    """The entries with `doc_id` placed between `supersedes` and `superseded_by`; links that pointed at the old
    neighbours are cut so that every link holds both ways."""
    out = [dict(e) for e in entries]
    by_id = {e["doc_id"]: e for e in out}
    me = by_id[doc_id]
    for key, back, new in (("supersedes", "superseded_by", supersedes), ("superseded_by", "supersedes", superseded_by)):
        old = me.get(key)
        if old and old != new and by_id.get(old, {}).get(back) == doc_id:
            by_id[old].pop(back, None)
        if new:
            me[key] = new
            neighbour = by_id[new]
            displaced = neighbour.get(back)
            if displaced and displaced != doc_id and displaced in by_id and by_id[displaced].get(key) == new:
                by_id[displaced].pop(key, None)  # the link between the two neighbours now runs through doc_id
            neighbour[back] = doc_id
        else:
            me.pop(key, None)
    return out


def unlinked(entries: list[dict], removed: str) -> list[dict]:
    """The entries once `removed` is gone: its previous and next versions are linked to each other."""
    by_id = {e["doc_id"]: e for e in entries}
    gone = by_id[removed]
    before, after = gone.get("supersedes"), gone.get("superseded_by")
    out = []
    for e in entries:
        if e["doc_id"] == removed:
            continue
        e = dict(e)
        if e["doc_id"] == before:
            e.pop("superseded_by", None)
            if after:
                e["superseded_by"] = after
        if e["doc_id"] == after:
            e.pop("supersedes", None)
            if before:
                e["supersedes"] = before
        out.append(e)
    return out
