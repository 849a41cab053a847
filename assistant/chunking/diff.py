"""What changed between two versions of a document, clause by clause.

Both texts become units: articles (第X条, with every paragraph and item under them) where the text has articles,
otherwise the leaf clauses of the heading tree (一、/（一）/1./lead phrases). Units are aligned in three passes:
  1. the same wording (the article number and white space aside): unchanged, or renumbered, or moved;
  2. similar wording (tf-idf cosine of character bigrams, so that words every article uses count little; a
     lower bar for two units that are each other's most similar), with a bonus for the same article number or heading and for a place consistent with the units aligned in pass 1;
  3. what is left between two aligned units, in order, when it is still somewhat alike (a rewritten article).
A pair out of the order of the longest in-order run of pairs is `moved`; a pair whose number or heading differs is
`renumbered`. Units left over are `added` or `removed`. Inside a changed unit the changed characters are marked
(difflib, with one-character islands between two changes folded into the change so that it reads as words)."""
from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from assistant.chunking.clauses import clauses
from assistant.domain.markup import inert
from assistant.domain.values import PATH_SEPARATOR

KINDS = ("added", "removed", "changed", "unchanged")
KIND_LABELS = {"added": "新增", "removed": "删除", "changed": "修改", "unchanged": "未变"}
_CN = "零〇一二两三四五六七八九十百千"
_ARTICLE = re.compile(rf"^第([{_CN}\d]+)条")
_MARKER = re.compile(rf"^\s*第[{_CN}\d]+条[\s\u3000]*")
_INVISIBLE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]")
SIMILAR = 0.5  # pass 2: cosine at least this …
SIMILAR_SAME_PLACE = 0.3  # … or this with the same article number or heading
SIMILAR_MUTUAL = 0.4  # … or this when each is the other's most similar unit
GAP_SIMILAR = 0.25  # pass 3: in order, between two aligned units
_SAME_KEY_BONUS = 0.15
_IN_ORDER_BONUS = 0.15


def article_number(segment: str) -> int | None:
    """第一百零三条 → 103; 第12条 → 12."""
    m = _ARTICLE.match(segment)
    if not m:
        return None
    text = m.group(1)
    if text.isdigit():
        return int(text)
    digits = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    total, current = 0, 0
    for ch in text:
        if ch in digits:
            current = digits[ch]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (current or 1) * unit
            current = 0
    return total + current


@dataclass(frozen=True)
class Unit:
    """An article (or a leaf clause where there are no articles) as the document prints it."""

    path: tuple[str, ...]  # heading path down to the article or clause
    text: str  # its paragraphs, one per line
    number: int | None = None  # the article number

    @property
    def where(self) -> str:
        return PATH_SEPARATOR.join(self.path)

    @property
    def key(self) -> str:
        """What "the same place" means: the article number, or the heading path of a clause."""
        return f"#{self.number}" if self.number is not None else self.where

    @property
    def content(self) -> str:
        """The text without its article marker (a renumbered article is not a changed one)."""
        return _MARKER.sub("", self.text, count=1)

    @property
    def body(self) -> str:
        return _INVISIBLE.sub("", self.content)


def units(text: str) -> list[Unit]:
    """The document's articles, or its leaf clauses when it has no articles; empty ones are left out."""
    found = clauses(text)
    has_articles = any(_ARTICLE.match(seg) for c in found for seg in c.path)
    out: list[Unit] = []
    for clause in found:
        path = clause.path
        if has_articles:
            at = next((i for i, seg in enumerate(path) if _ARTICLE.match(seg)), None)
            if at is not None:
                path = path[:at + 1]
        if out and out[-1].path == path:
            out[-1] = Unit(path, out[-1].text + "\n" + clause.text, out[-1].number)
            continue
        number = article_number(path[-1]) if has_articles and path and _ARTICLE.match(path[-1]) else None
        out.append(Unit(path, clause.text, number))
    return [u for u in out if u.body]


# ---------------------------------------------------------------- similarity

def _bigrams(body: str) -> Counter:
    return Counter(body[i:i + 2] for i in range(len(body) - 1)) if len(body) > 1 else Counter([body])


def similarity(old: list[Unit], new: list[Unit]):
    """Cosine of tf-idf weighted character bigrams, old × new (a dense numpy array)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    bags = [_bigrams(u.body) for u in (*old, *new)]
    vocab: dict[str, int] = {}
    rows, cols, counts = [], [], []
    for r, bag in enumerate(bags):
        for gram, count in bag.items():
            rows.append(r)
            cols.append(vocab.setdefault(gram, len(vocab)))
            counts.append(count)
    if not vocab or not old or not new:
        return np.zeros((len(old), len(new)))
    cols_a = np.asarray(cols)
    df = np.bincount(cols_a, minlength=len(vocab))
    idf = np.log((len(bags) + 1) / (df + 1)) + 1.0
    values = (1.0 + np.log(np.asarray(counts, dtype=np.float64))) * idf[cols_a]
    matrix = csr_matrix((values, (np.asarray(rows), cols_a)), shape=(len(bags), len(vocab)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix = csr_matrix(matrix.multiply(1.0 / norms[:, None]))
    return (matrix[:len(old)] @ matrix[len(old):].T).toarray()


def _increasing(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The longest run of pairs (sorted by old index) whose new indexes increase: the ones in order."""
    ordered = sorted(pairs)
    tails: list[int] = []
    tail_at: list[int] = []
    parent = [-1] * len(ordered)
    for k, (_, j) in enumerate(ordered):
        pos = bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[pos] = j
            tail_at[pos] = k
        parent[k] = tail_at[pos - 1] if pos else -1
    out: set[tuple[int, int]] = set()
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.add(ordered[k])
        k = parent[k]
    return out


def align(old: list[Unit], new: list[Unit]) -> dict[int, tuple[int, float]]:
    """old index → (new index, similarity) for every aligned pair."""
    pairs: dict[int, tuple[int, float]] = {}
    slots: dict[str, list[int]] = defaultdict(list)
    for j, u in enumerate(new):
        slots[u.body].append(j)
    for i, u in enumerate(old):  # pass 1: the same wording
        if slots.get(u.body):
            pairs[i] = (slots[u.body].pop(0), 1.0)
    left_old = [i for i in range(len(old)) if i not in pairs]
    taken = {j for j, _ in pairs.values()}
    left_new = [j for j in range(len(new)) if j not in taken]
    if not left_old or not left_new:
        return pairs
    sim = similarity(old, new)
    anchors = sorted(_increasing([(i, j) for i, (j, _) in pairs.items()]))
    anchor_old = [i for i, _ in anchors]

    def window(i: int) -> tuple[int, int]:
        """The new indexes between which old unit i belongs, by the in-order anchors around it."""
        at = bisect_left(anchor_old, i)
        lo = anchors[at - 1][1] if at else -1
        hi = anchors[at][1] if at < len(anchors) else len(new)
        return lo, hi

    scored = []
    best_new, best_old = sim.argmax(axis=1), sim.argmax(axis=0)
    for i in left_old:  # pass 2: similar wording
        lo, hi = window(i)
        for j in left_new:
            s = float(sim[i, j])
            same = old[i].key == new[j].key
            mutual = best_new[i] == j and best_old[j] == i
            if s >= SIMILAR or (same and s >= SIMILAR_SAME_PLACE) or (mutual and s >= SIMILAR_MUTUAL):
                scored.append((s + _SAME_KEY_BONUS * same + _IN_ORDER_BONUS * (lo < j < hi), i, j, s))
    used_new: set[int] = set()
    for _, i, j, s in sorted(scored, reverse=True):
        if i not in pairs and j not in used_new:
            pairs[i] = (j, s)
            used_new.add(j)
    # pass 3: between two aligned units, in order, what is still somewhat alike
    ordered = sorted(_increasing([(i, j) for i, (j, _) in pairs.items()]))
    bounds = [(-1, -1), *ordered, (len(old), len(new))]
    taken = {j for j, _ in pairs.values()}
    for (i0, j0), (i1, j1) in zip(bounds, bounds[1:]):
        gap_old = [i for i in range(i0 + 1, i1) if i not in pairs]
        gap_new = [j for j in range(j0 + 1, j1) if j not in taken]
        candidates = sorted(((float(sim[i, j]), i, j) for i in gap_old for j in gap_new
                             if sim[i, j] >= GAP_SIMILAR), reverse=True)
        for s, i, j in candidates:
            if i in pairs or j in taken:
                continue
            # keep the gap's pairs in order among themselves
            if any((i2 < i) != (j2 < j) for i2, (j2, _) in pairs.items() if i0 < i2 < i1):
                continue
            pairs[i] = (j, s)
            taken.add(j)
    return pairs


# ---------------------------------------------------------------- changed characters

def char_diff(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """(op, text) pieces, op "equal" / "delete" / "insert"; concatenating equal+delete gives `old`, equal+insert
    gives `new`. An equal island of one character between two changes is folded into them."""
    ops = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    pieces: list[list[str]] = []  # [op, old text, new text]
    for tag, a0, a1, b0, b1 in ops:
        pieces.append(["equal" if tag == "equal" else "change", old[a0:a1], new[b0:b1]])
    merged: list[list[str]] = []
    for k, piece in enumerate(pieces):
        island = piece[0] == "equal" and len(piece[1]) <= 1 and 0 < k < len(pieces) - 1 and \
            pieces[k - 1][0] == "change" and pieces[k + 1][0] == "change"
        if island:
            piece = ["change", piece[1], piece[2]]
        if merged and merged[-1][0] == "change" and piece[0] == "change":
            merged[-1][1] += piece[1]
            merged[-1][2] += piece[2]
        else:
            merged.append(list(piece))
    _whole_numbers(merged)
    out: list[tuple[str, str]] = []
    for op, a, b in merged:
        if op == "equal":
            if a:
                out.append(("equal", a))
            continue
        if a:
            out.append(("delete", a))
        if b:
            out.append(("insert", b))
    return tuple(out)


def _whole_numbers(pieces: list[list[str]]) -> None:
    """Widen each change to whole numbers in place: 不少于1~~0~~**2**个 reads 不少于~~10~~**12**个."""
    for k, piece in enumerate(pieces):
        if piece[0] != "change":
            continue
        before = pieces[k - 1] if k and pieces[k - 1][0] == "equal" else None
        after = pieces[k + 1] if k + 1 < len(pieces) and pieces[k + 1][0] == "equal" else None
        if before and _DIGITS_END.search(before[1]) and _DIGITS_START.match(piece[1] + piece[2] or " "):
            digits = _DIGITS_END.search(before[1]).group(0)
            before[1], before[2] = before[1][:-len(digits)], before[2][:-len(digits)]
            piece[1], piece[2] = digits + piece[1], digits + piece[2]
        if after and _DIGITS_START.match(after[1]) and _DIGITS_END.search(piece[1] or piece[2] or " "):
            digits = _DIGITS_START.match(after[1]).group(0)
            after[1], after[2] = after[1][len(digits):], after[2][len(digits):]
            piece[1], piece[2] = piece[1] + digits, piece[2] + digits


_DIGITS_END = re.compile(r"[0-9０-９.．%％]+$")
_DIGITS_START = re.compile(r"^[0-9０-９.．%％]+")


# ---------------------------------------------------------------- the diff

@dataclass(frozen=True)
class ClauseChange:
    kind: str  # added | removed | changed | unchanged
    old: str | None  # where the clause stood in the old version ("第二章 总则 › 第十条"); None when added
    new: str | None  # where it stands in the new version; None when removed
    old_text: str = ""
    new_text: str = ""
    similarity: float = 0.0
    renumbered: bool = False  # another article number or heading
    moved: bool = False  # out of the order of the other aligned clauses
    segments: tuple[tuple[str, str], ...] = ()  # changed clauses: (equal|delete|insert, text)

    @property
    def label(self) -> str:
        old = self.old.split(PATH_SEPARATOR)[-1] if self.old else None
        new = self.new.split(PATH_SEPARATOR)[-1] if self.new else None
        if old and new and old != new:
            return f"{old} → {new}"
        return new or old or ""

    @property
    def tags(self) -> tuple[str, ...]:
        return (KIND_LABELS[self.kind], *(("移动",) if self.moved else ()), *(("重新编号",) if self.renumbered else ()))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "kind_label": KIND_LABELS[self.kind], "old": self.old, "new": self.new,
                "label": self.label, "old_text": self.old_text, "new_text": self.new_text,
                "similarity": round(self.similarity, 4), "renumbered": self.renumbered, "moved": self.moved,
                "segments": [{"op": op, "text": text} for op, text in self.segments]}


def diff_units(old: list[Unit], new: list[Unit]) -> tuple[ClauseChange, ...]:
    """The changes in the new version's order, each removed clause after the clause it followed."""
    pairs = align(old, new)
    in_order = _increasing([(i, j) for i, (j, _) in pairs.items()])
    by_new = {j: (i, s) for i, (j, s) in pairs.items()}
    placed: list[tuple[tuple, ClauseChange]] = []
    for j, u in enumerate(new):
        if j not in by_new:
            placed.append(((j, 0, 0), ClauseChange("added", None, u.where, new_text=u.text)))
            continue
        i, s = by_new[j]
        o = old[i]
        same = o.body == u.body
        placed.append(((j, 0, 0), ClauseChange(
            "unchanged" if same else "changed", o.where, u.where, o.text, u.text, 1.0 if same else s,
            renumbered=o.key != u.key or (o.number is None and o.path != u.path),
            moved=(i, j) not in in_order,
            segments=() if same else char_diff(o.content, u.content))))
    anchor_old = sorted(i for i, _ in in_order)
    new_of = {i: j for i, j in in_order}
    for i, o in enumerate(old):
        if i in pairs:
            continue
        at = bisect_left(anchor_old, i)
        after = new_of[anchor_old[at - 1]] if at else -1
        placed.append(((after, 1, i), ClauseChange("removed", o.where, None, old_text=o.text)))
    return tuple(change for _, change in sorted(placed, key=lambda p: p[0]))


def diff_texts(old_text: str, new_text: str) -> tuple[ClauseChange, ...]:
    return diff_units(units(old_text), units(new_text))


@dataclass(frozen=True)
class VersionDiff:
    """Two versions of a document and what changed between them."""

    old: dict  # doc_id, title, version (its date), force (its standing), doc_number …
    new: dict
    changes: tuple[ClauseChange, ...] = field(default=())

    def counts(self) -> dict[str, int]:
        out = {k: sum(c.kind == k for c in self.changes) for k in KINDS}
        out["moved"] = sum(c.moved for c in self.changes)
        out["renumbered"] = sum(c.renumbered for c in self.changes)
        return out

    @property
    def edits(self) -> tuple[ClauseChange, ...]:
        """The added, removed and changed clauses (what a reader must look at)."""
        return tuple(c for c in self.changes if c.kind != "unchanged")

    def summary(self) -> str:
        n = self.counts()
        return (f"修改 {n['changed']} 条、新增 {n['added']} 条、删除 {n['removed']} 条，"
                f"未变 {n['unchanged']} 条（其中移动 {n['moved']} 条、重新编号 {n['renumbered']} 条）")

    def to_dict(self) -> dict:
        return {"old": self.old, "new": self.new, "counts": self.counts(), "summary": self.summary(),
                "changes": [c.to_dict() for c in self.changes]}

    def to_markdown(self) -> str:
        return diff_markdown(self)


def _version_line(side: str, doc: dict) -> str:
    parts = [f"{side}：《{inert(doc.get('title') or '')}》"]
    for key, label in (("doc_number", ""), ("version", "版本日期 "), ("force_label", "")):
        if doc.get(key):
            parts.append(f"{label}{inert(str(doc[key]))}")
    parts.append(f"`{doc.get('doc_id')}`")
    return "- " + "｜".join(parts)


def marked_markdown(segments) -> str:
    """Changed characters in Markdown: ~~removed~~ and **added**."""
    out = []
    for op, text in segments:
        text = inert(text)
        out.append(text if op == "equal" else f"~~{text}~~" if op == "delete" else f"**{text}**")
    return "".join(out).replace("\n", "  \n")


def diff_markdown(diff: VersionDiff) -> str:
    lines = [f"# 版本对比：《{inert(diff.new.get('title') or diff.old.get('title') or '')}》", "",
             _version_line("旧版本", diff.old), _version_line("新版本", diff.new), "",
             f"共 {len(diff.changes)} 处条款：{diff.summary()}。", ""]
    if not diff.edits:
        lines.append("两个版本的条款内容相同。")
    for c in diff.edits:
        lines.append(f"## 【{'｜'.join(c.tags)}】{inert(c.label)}")
        where = c.new or c.old or ""
        if c.kind == "changed" and c.old != c.new:
            lines.append(f"位置：{inert(c.old or '')} → {inert(c.new or '')}")
        else:
            lines.append(f"位置：{inert(where)}")
        lines.append("")
        if c.kind == "changed":
            lines.append(marked_markdown(c.segments))
        else:
            text = c.new_text if c.kind == "added" else c.old_text
            lines.append("\n".join(f"> {inert(line)}" for line in text.splitlines()))
        lines.append("")
    moved = [c for c in diff.changes if c.kind == "unchanged" and (c.moved or c.renumbered)]
    if moved:
        lines.append("## 内容未变、位置或编号改变的条款")
        lines.append("、".join(f"{inert(c.label)}{'（移动）' if c.moved else ''}" for c in moved))
        lines.append("")
    return "\n".join(lines)
