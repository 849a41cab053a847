"""Reading a question: its search terms (with colloquial synonyms and both spellings of numbers) and the
clause numbers it points at ("第三部分第5条")."""
from __future__ import annotations

import re

from assistant.domain.segment import cn_ordinal, cn_to_int, fold, search_terms

# Colloquial words principals use → the words the documents use (BM25 only; the dense model
# handles paraphrase on its own).
SYNONYMS = {
    "期限": ("时限", "合作时间", "合作期"), "多久": ("时限",), "几年": ("时限", "年"),
    "加入": ("纳新", "吸纳"), "新成员": ("纳新",), "退出": ("退出",), "离开": ("退出",),
    "老师": ("教师",), "钱": ("经费", "费用"), "费用": ("经费", "协议费用"), "经费": ("费用",),
    "改名": ("更名", "校名"), "名字": ("校名",), "更名": ("校名",), "规模": ("规模", "所"),
    "多少所": ("规模", "所"), "轮岗": ("交流", "轮岗"), "交流": ("轮岗",), "章程": ("章程",),
    "成立": ("组建", "成立"), "组建": ("成立",), "审批": ("批准", "批复", "同意"),
    "批准": ("审批", "同意"), "考核": ("评价", "督导"), "评价": ("考核",), "招生": ("招生",),
    "品牌": ("冠名", "标识"), "校服": ("校服",), "总校长": ("总校长",), "终止": ("合作终止", "退出"),
    "提前": ("退出",), "补贴": ("补助", "奖补"), "交通费": ("交通",), "住宿": ("住宿",),
    "出去": ("退出",), "单干": ("退出", "独立办学"), "点头": ("同意", "批准"), "进": ("纳新", "吸纳"),
    "进入": ("纳新", "吸纳"), "名校": ("优质学校", "核心校"), "音乐": ("音体美",), "美术": ("音体美",),
    "配不齐": ("短缺",), "缺": ("短缺",), "续": ("延长",), "续约": ("延长",), "多大": ("规模",),
}

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

    "长沙意见第三部分第5条" → [("三、",), ("5.", "（五）", "第五条")]."""
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
            refs.append((m.start(), (f"{n}.", f"{n}．", f"（{cn_ordinal(n)}）", f"第{cn_ordinal(n)}条")))
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
            matched.append((-score, record.ordinal, row))
    return [row for *_, row in sorted(matched)]


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
    for term in list(terms):
        terms.extend(SYNONYMS.get(term, ()))
    return tuple(dict.fromkeys(terms))


