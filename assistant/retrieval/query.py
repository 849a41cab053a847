"""Reading a question: its search terms (with colloquial synonyms and both spellings of numbers) and the
clause numbers it points at ("第三部分第5条")."""
from __future__ import annotations

import re

from assistant.domain.glossary import glossary
from assistant.domain.segment import cn_ordinal, cn_to_int, fold, search_terms

_ORDINAL = r"[一二三四五六七八九十\d]+"
_PART_REF = re.compile(rf"第({_ORDINAL})(?:部分|章|大部分)")
_ENUM_REF = re.compile(r"([一二三四五六七八九十]+)、")
_PAREN_REF = re.compile(r"[（(]([一二三四五六七八九十]+)[）)]")
_ITEM_REF = re.compile(rf"第({_ORDINAL})(?:点|条|项|款)")
_DOC_HINTS = ("解读", "征求意见稿", "共同体", "指导意见", "实施意见", "实施方案", "意见")


def _as_int(token: str) -> int | None:
    return int(token) if token.isdigit() else cn_to_int(token)


def clause_refs(question: str) -> list[tuple[str, ...]]:
    """Clause numbers a question points at, outermost first; each as alternative path-segment prefixes.

    "长沙意见第三部分第5条" → [("三、",), ("5.", "5．", "（五）", "第五条", "五、")]."""
    q = fold(question).replace("(", "（").replace(")", "）")
    refs: list[tuple[int, tuple[str, ...]]] = []
    for m in _PART_REF.finditer(q):
        n = _as_int(m.group(1))
        if n:
            refs.append((m.start(), (cn_ordinal(n) + "、", f"第{cn_ordinal(n)}章")))
    for m in _ENUM_REF.finditer(q):
        refs.append((m.start(), (m.group(1) + "、",)))
    for m in _PAREN_REF.finditer(q):
        refs.append((m.start(), (f"（{m.group(1)}）",)))
    for m in _ITEM_REF.finditer(q):
        n = _as_int(m.group(1))
        if n:
            # documents without articles number their parts "五、": "第五条" is how a reader names one of them
            refs.append((m.start(), (f"{n}.", f"{n}．", f"（{cn_ordinal(n)}）", f"第{cn_ordinal(n)}条",
                                     f"{cn_ordinal(n)}、")))
    return [alternatives for _, alternatives in sorted(refs)]


# the clause number opening a path segment, in the spellings clause_refs() produces
MARKER = re.compile(r"^(?:第[一二三四五六七八九十百零〇\d]+[章条]|[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d{1,2}[.．])")


def path_segments(clause: str) -> list[str]:
    return clause.replace("(", "（").replace(")", "）").split(" › ")


def structural_matches(question: str, records, rows) -> list[int]:
    """Rows whose clause path contains every referenced clause number, in order."""
    refs = clause_refs(question)
    if not refs:
        return []
    hints = [h for h in _DOC_HINTS if h in question]
    matched = []
    for row in rows:
        record = records[row]
        segments = path_segments(record.clause)
        position, ok = 0, True
        for alternatives in refs:
            while position < len(segments) and not segments[position].startswith(alternatives):
                position += 1
            if position == len(segments):
                ok = False
                break
            position += 1
        if ok:
            score = sum(1 for h in hints if h in record.title)
            # "第五条" may be the part "五、" or the item "5." inside another part: the shallower reading first
            matched.append((-score, position, record.ordinal, row))
    if not matched:
        return []
    best = min(matched)[:2]
    return [row for *key, _, row in sorted(matched) if tuple(key) == best]


def number_variants(text: str) -> list[str]:
    """Both spellings of counted numbers: '六年' ↔ '6年', '１０所' → '10所'."""
    out = []
    for m in re.finditer(r"([零〇一二两三四五六七八九十]{1,3})(年|所|个|次|人|名)", text):
        value = cn_to_int(m.group(1))
        if value is not None:
            out.append(f"{value}{m.group(2)}")
    for m in re.finditer(r"(\d{1,2})(年|所|个|次)", fold(text)):
        value = int(m.group(1))
        if 0 < value <= 10:
            out.append("零一二三四五六七八九十"[value] + m.group(2))
    return out


def query_terms(question: str) -> tuple[str, ...]:
    terms = list(search_terms(question))
    for extra in number_variants(question):
        terms.extend(search_terms(extra))
    g = glossary()
    for term in list(terms):
        terms.extend(g.variants(term)[1:])
    return tuple(dict.fromkeys(terms))


