"""Charter checking: each requirement of a jurisdiction is met, missing or in conflict with a draft.

Pure logic over the requirement book and the draft text (no index, no model), so every verdict can
be explained: the draft sentence that matched the requirement's cue words, the numbers found near
them, or the negation / permission words around a prohibited act.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.chunking.clauses import clean_line
from assistant.errors import CharterError
from assistant.domain.places import aliases
from assistant.domain.quantities import Quantity, extract
from assistant.domain.markup import inert
from assistant.charter.requirements import (KIND_LABELS, REVIEW_LABEL, GroupType, Parameter, Requirement,
                                           RequirementBook, format_number)
from assistant.domain.values import status_label
from assistant.domain.segment import fold
from assistant.charter.suggest import provisional_requirements

STATUS_LABELS = {"met": "符合", "missing": "缺失", "conflict": "冲突"}
NOTE_PREFIX = "依据："  # skeleton annotation lines; the checker skips them
NOTE_PREFIXES = (NOTE_PREFIX, "依据:", "注：", "注:")  # "注：" marks the skeleton's own remarks
ABOUT_TOLERANCE = 0.2  # "10所左右": up to 20 % above still counts as about 10

# A prohibited act is restated when one of these precedes it in the same clause segment.
_NEGATIONS = ("不得", "不准", "不能", "不可", "禁止", "严禁", "不允许", "不再", "取消", "不设", "杜绝", "避免",
              "不宜", "无权", "不予")
# A required item is contradicted when the draft says it is not needed.
_DENIALS = ("无需", "无须", "不需", "不必", "免于", "不设", "不建立", "不成立", "不制定", "不签订", "不签署",
            "不实行", "不再设")
_PERMISSION = re.compile(r"可以|(?<![认许不])可(?!持续|能|靠|行性|观)|允许|准予|有权|继续|仍|保留|自行")
_SEGMENT = re.compile(r"[，,；;：:]")
_PLACEHOLDER = re.compile(r"【[^】]*】")
_HEADING = re.compile(r"^(?:第[一二三四五六七八九十百\d]+[章节编]|[一二三四五六七八九十]+、)")
_LIST_MARK = re.compile(r"^(?:#{1,6}|>|[-*+]|\d{1,2}[.)])\s*")
_ARTICLE = re.compile(r"^(第[一二三四五六七八九十百\d]+条)\s*")
# A sentence ends at 。！？ only: "；" separates items of one provision, which must be read together.
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*[”’」』）)]*")


# ---------------------------------------------------------------- scope: which requirements apply

@dataclass(frozen=True)
class Scope:
    city: str
    group_type: str | None
    requirements: tuple[Requirement, ...]
    provisional: bool = False  # no curated list: suggested requirements, all 待确认
    notices: tuple[str, ...] = ()


def resolve_city(book: RequirementBook, city: str) -> str:
    """The manifest's name for `city` ("长沙" → "长沙市", "中原区" → "郑州市中原区")."""
    name = (city or "").strip()
    if not name:
        raise CharterError("请指定城市/地区，例如 --city 长沙市。")
    for known in book.cities:
        if name in aliases(known):
            return known
    raise CharterError(f"语料中没有{name}的文件，无法检查章程。目前覆盖：{'、'.join(book.cities)}")


def _find_type(types: tuple[GroupType, ...], name: str) -> GroupType | None:
    for candidate in (name, name.removesuffix("教育集团"), name.removesuffix("集团")):
        found = next((t for t in types if candidate in t.names), None)
        if found:
            return found
    return None


def _detect_type(types: tuple[GroupType, ...], text: str) -> GroupType | None:
    """The group type the draft names first ("本集团为引领型教育集团")."""
    best: tuple[int, GroupType] | None = None
    for t in types:
        for name in t.names:
            at = text.find(name)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, t)
    return best[1] if best else None


def scope_for(book: RequirementBook, city: str, group_type: str | None = None,
              text: str | None = None) -> Scope:
    """Requirements that apply to a charter of `city` (and group type, given or named in `text`)."""
    city = resolve_city(book, city)
    types = book.jurisdiction(city).group_types
    type_names = "、".join(t.name for t in types)
    notices: list[str] = []
    chosen: GroupType | None = None
    label = group_type.strip() if group_type and group_type.strip() else None
    if label and types:
        chosen = _find_type(types, label)
        if chosen is None:
            raise CharterError(f"{city}的文件未规定“{label}”集团，可选类型：{type_names}")
    elif label:
        notices.append(f"{city}的文件未区分集团类型，“{label}”仅作为名称标注，按通用要求检查。")
    elif types and text:
        chosen = _detect_type(types, text)
        if chosen:
            notices.append(f"从草案中识别集团类型为“{chosen.name}”。")
    if types and chosen is None:
        notices.append(f"未指定集团类型（可选：{type_names}），只检查通用要求，未检查类型专属要求。")

    curated = book.curated(city)
    provisional = not curated
    if provisional:
        requirements = provisional_requirements(book, city)
        notices.append(f"{city}尚无人工确认的要求清单；以下要求由系统从含“应/须/不得/原则上/不超过”等的条款中"
                       f"自动提取，均为待确认，仅供参考。")
    else:
        requirements = tuple(r for r in curated if _applies(r, chosen))
    statuses = {r.source.status for r in requirements}
    if "draft" in statuses:
        notices.append(f"部分依据文件为{status_label('draft')}，尚未正式施行，以正式文件为准。")
    if "interpretation" in statuses:
        notices.append(f"部分依据来自{status_label('interpretation')}，以正式文件原文为准。")
    notices += review_notices(requirements)
    return Scope(city, chosen.name if chosen else label, requirements, provisional, tuple(notices))


def _applies(req: Requirement, group_type: GroupType | None) -> bool:
    if group_type is None:
        return not req.applies_to
    if group_type.documents and req.source.doc_id not in group_type.documents:
        return False
    return not req.applies_to or group_type.name in req.applies_to


# ---------------------------------------------------------------- the draft as sentences

def draft_sentences(text: str) -> list[str]:
    """Statements of a draft: headings, Markdown markers and "依据："/"注：" annotation lines removed."""
    out: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        heading = line.startswith("#")
        while True:
            stripped = _LIST_MARK.sub("", line, count=1).strip()
            if stripped == line:
                break
            line = stripped
        line = _ARTICLE.sub(r"\1 ", clean_line(line))  # keep "第七条 " readable in evidence
        if not line or line.startswith(NOTE_PREFIXES) or heading or _is_heading(line):
            continue
        out.extend(s.strip() for s in _SENTENCE.findall(line) if s.strip())
    return out


def _is_heading(line: str) -> bool:
    # "第三章 组织机构", "二、合作期限"; a short bare line may still be a statement ("合作期限八年")
    return bool(_HEADING.match(line)) and not re.search(r"[，。；：,;:！？!?]", line)


# ---------------------------------------------------------------- matching

@lru_cache(maxsize=4096)
def _folded(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fold(w) for w in words)


def _hits(folded: str, group: tuple[str, ...]) -> list[int]:
    """Start offsets of every alternative of a cue group in the folded sentence."""
    found = []
    for word in _folded(group):
        start = folded.find(word)
        while start >= 0:
            found.append(start)
            start = folded.find(word, start + 1)
    return sorted(found)


def _segment_start(folded: str, at: int) -> int:
    starts = [m.end() for m in _SEGMENT.finditer(folded, 0, at)]
    return starts[-1] if starts else 0


def _preceded_by(folded: str, at: int, words: tuple[str, ...]) -> bool:
    """One of `words` occurs between the start of the clause segment and offset `at`."""
    head = folded[_segment_start(folded, at):at]
    return any(w in head for w in words)


def _permitted(folded: str, at: int) -> bool:
    return bool(_PERMISSION.search(folded[_segment_start(folded, at):at]))


def _exempt(req: Requirement, folded: str) -> bool:
    ex = req.exempt
    return bool(ex) and any(fold(w) in folded for w in ex.any) and not any(fold(w) in folded for w in ex.unless)


@dataclass(frozen=True)
class _Match:
    groups: int  # cue groups matched
    hits: int  # cue words found, to prefer the most specific sentence as evidence
    positions: tuple[int, ...]  # offsets of matched cue words
    last: tuple[int, ...]  # offsets of the last group's words: the act a prohibition forbids


def _match(folded: str, cues: tuple[tuple[str, ...], ...]) -> _Match:
    per_group = [_hits(folded, g) for g in cues]
    matched = [h for h in per_group if h]
    positions = tuple(p for h in per_group for p in h)
    return _Match(len(matched), len(positions), positions, tuple(per_group[-1]) if per_group else ())


# ---------------------------------------------------------------- numbers

def _values(sentence: str, param: Parameter) -> list[tuple[Quantity, float]]:
    """(quantity, value per the limit's period) for numbers in segments holding the cue words."""
    units = dict(param.units)
    segments = [s for s in _SEGMENT.split(sentence) if s.strip()]
    near = _folded(param.near)
    exclude = _folded(param.exclude)
    found: list[tuple[Quantity, float]] = []
    for i, seg in enumerate(segments):
        f = fold(seg)
        if not any(w in f for w in near) or any(w in f for w in exclude):
            continue
        where = [seg]
        quantities = extract(seg, units)
        for following in segments[i + 1:i + 3]:  # "合作期限：自签约之日起，共八年" puts it later
            if quantities or any(w in fold(following) for w in exclude):
                break
            where.append(following)
            quantities = extract(following, units)
        factor = 1.0
        for key, value in param.scale:
            if any(key in w for w in where):
                factor *= value
        found.extend((q, q.value * factor) for q in quantities)
    return found


def _violates(param: Parameter, value: float) -> bool:
    if param.op == "max":
        return value > param.value
    if param.op == "min":
        return value < param.value
    if param.op == "eq":
        return abs(value - param.value) > 1e-9
    return value > param.value * (1 + ABOUT_TOLERANCE)


def _number_note(param: Parameter, q: Quantity, value: float, ok: bool) -> str:
    per = f"（折合{format_number(round(value, 2))}{param.unit}）" if abs(value - q.value) > 1e-9 else ""
    if ok:
        return f"草案写明“{q.text}”{per}，符合“{param.describe()}”。"
    return f"草案写明“{q.text}”{per}，不符合“{param.describe()}”的规定。"


# ---------------------------------------------------------------- verdicts

@dataclass(frozen=True)
class RequirementResult:
    requirement: Requirement
    status: str  # met | missing | conflict
    evidence: str = ""  # the draft sentence that satisfies or contradicts the requirement
    note: str = ""  # why, in Chinese

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def to_dict(self) -> dict:
        return {"id": self.requirement.id, "status": self.status, "status_label": self.status_label,
                "evidence": self.evidence, "note": self.note, "requirement": self.requirement.to_dict()}


def evaluate(req: Requirement, sentences: list[str]) -> RequirementResult:
    need = req.min_groups or len(req.cues)
    conflict: tuple[str, str] | None = None
    met: tuple[int, str, str] | None = None  # (cue hits, sentence, note)
    partial: tuple[int, str, str] | None = None  # (groups matched, sentence, note)
    for sentence in sentences:
        folded = fold(sentence)
        if any(w in folded for w in _folded(req.exclude)):
            continue  # the sentence is about something else (e.g. members' plans, not the group's)
        exempt = _exempt(req, folded)
        if req.conflict_cues and not exempt and not conflict:
            c = _match(folded, req.conflict_cues)
            if c.groups == len(req.conflict_cues) and not any(
                    _preceded_by(folded, at, _NEGATIONS) for at in c.last):
                conflict = (sentence, "草案内容与该规定相抵触。")
        m = _match(folded, req.cues)
        if m.groups < need:
            # the first group names the topic; with one more group the draft addresses this point
            found = [bool(_hits(folded, g)) for g in req.cues]
            if found[0] and m.groups >= 2 and (partial is None or m.groups > partial[0]):
                missing = [g[0] for g, hit in zip(req.cues, found) if not hit]
                partial = (m.groups, sentence, f"草案提到相关内容，但缺少“{'”“'.join(missing)}”等要素。")
            continue
        verdict = _judge(req, sentence, folded, m, exempt)
        if verdict is None:
            continue
        status, note = verdict
        if status == "conflict" and not conflict:
            conflict = (sentence, note)
        elif status == "met" and (met is None or m.hits > met[0]):
            met = (m.hits, sentence, note)
        elif status == "partial" and (partial is None or need >= partial[0]):
            partial = (need, sentence, note)
    if conflict:
        return RequirementResult(req, "conflict", *conflict)
    if met:
        return RequirementResult(req, "met", met[1], met[2])
    if partial:
        return RequirementResult(req, "missing", partial[1], partial[2])
    return RequirementResult(req, "missing", "", "草案中没有找到满足该要求的表述。")


def _judge(req: Requirement, sentence: str, folded: str, m: _Match, exempt: bool):
    """("met" | "conflict" | "partial", note) for a sentence matching the cues, or None to ignore it."""
    if req.kind == "prohibition":
        if req.provisional:  # no known act position: judge the whole sentence
            if any(w in folded for w in _NEGATIONS):
                return "met", "草案重申了该禁止性规定。"
            return ("conflict", "草案允许了该规定禁止的事项。") if _PERMISSION.search(folded) else None
        if any(_preceded_by(folded, at, _NEGATIONS) for at in m.last):
            return "met", "草案重申了该禁止性规定。"
        if exempt:
            return None
        if any(_permitted(folded, at) for at in m.last):
            return "conflict", "草案允许了该规定禁止的事项。"
        return "partial", "草案提到相关事项，但没有写明禁止性规定。"
    if req.kind in ("must_include", "procedure") and any(
            _preceded_by(folded, at, _DENIALS) for at in m.positions):
        return "conflict", "草案否定了该项要求。"
    if req.parameter is None:
        return "met", ""
    values = _values(sentence, req.parameter)
    if not values:
        return "partial", f"草案提到相关内容，但没有写明具体数值（规定：{req.parameter.describe()}）。"
    for q, value in values:
        if _violates(req.parameter, value):
            return "conflict", _number_note(req.parameter, q, value, ok=False)
    q, value = values[0]
    return "met", _number_note(req.parameter, q, value, ok=True)


# ---------------------------------------------------------------- the report

@dataclass(frozen=True)
class CharterReport:
    city: str
    group_type: str | None
    results: tuple[RequirementResult, ...]
    notices: tuple[str, ...] = ()
    provisional: bool = False

    def by_status(self, status: str) -> tuple[RequirementResult, ...]:
        return tuple(r for r in self.results if r.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {s: len(self.by_status(s)) for s in STATUS_LABELS}

    @property
    def score(self) -> int:
        """Share of requirements met, 0–100."""
        return round(100 * self.counts["met"] / len(self.results)) if self.results else 0

    @property
    def passed(self) -> bool:
        return bool(self.results) and self.counts["met"] == len(self.results)

    @property
    def summary(self) -> str:
        c = self.counts
        return (f"共 {len(self.results)} 项要求，符合 {c['met']} 项，缺失 {c['missing']} 项，冲突 {c['conflict']} 项；"
                f"得分 {self.score}/100。")

    def to_dict(self) -> dict:
        return {"city": self.city, "group_type": self.group_type, "provisional": self.provisional,
                "score": self.score, "passed": self.passed, "counts": self.counts, "summary": self.summary,
                "notices": list(self.notices), "results": [r.to_dict() for r in self.results]}

    def to_markdown(self) -> str:
        lines = [f"# 章程合规检查报告：{inert(self.city)}", "",
                 f"- 集团类型：{inert(self.group_type) if self.group_type else '未指定'}",
                 f"- 检查结果：{self.summary}"]
        if self.notices:
            lines += ["", *(f"> ⚠️ {inert(n)}  " for n in self.notices)]
        for status, title in (("conflict", "冲突（须修改）"), ("missing", "缺失（须补充）")):
            results = self.by_status(status)
            if results:
                lines += ["", f"## {title}：{len(results)} 项"]
                for n, r in enumerate(results, start=1):
                    lines += ["", *_result_markdown(n, r)]
        met = self.by_status("met")
        if met:
            lines += ["", f"## 已符合：{len(met)} 项", ""]
            lines += [f"- {inert(r.requirement.summary)}〔{_review_tag(r.requirement)}{inert(r.requirement.id)}〕："
                      f"「{inert(r.evidence)}」（依据：{inert(r.requirement.source.citation)}）"
                      + (f"；{REVIEW_LABEL}：{inert(r.requirement.review)}" if r.requirement.needs_review else "")
                      for r in met]
        return "\n".join(lines) + "\n"


def _result_markdown(n: int, r: RequirementResult) -> list[str]:
    req = r.requirement
    tag = ("待确认｜" if req.provisional else "") + (f"{REVIEW_LABEL}｜" if req.needs_review else "")
    out = [f"### {n}. {inert(req.summary)}〔{tag}{KIND_LABELS[req.kind]}｜{inert(req.id)}〕"]
    if req.condition:
        out.append(f"- 适用情形：{inert(req.condition)}")
    if r.evidence:
        out.append(f"- 草案原文：「{inert(r.evidence)}」")
    if r.note:
        out.append(f"- 说明：{inert(r.note)}")
    out.append(f"- 依据：{inert(req.source.citation)}")
    out.append(f"  > {inert(req.source.quote)}")
    out += review_lines(req)
    return out


def _review_tag(req: Requirement) -> str:
    return f"{REVIEW_LABEL}｜" if req.needs_review else ""


def review_notices(requirements) -> list[str]:
    """One notice when requirements need review because their source clause changed in a newer version."""
    flagged = [r.id for r in requirements if r.needs_review]
    if not flagged:
        return []
    return [f"{len(flagged)} 项要求的依据条款在现行版本中已修改、删除或失效，标为“{REVIEW_LABEL}”，"
            f"请对照新版本原文核对：{'、'.join(flagged)}。"]


def review_lines(req: Requirement) -> list[str]:
    """Markdown lines saying why a requirement needs review, with the clause's wording in force."""
    if not req.needs_review:
        return []
    out = [f"- **{REVIEW_LABEL}**：{inert(req.review)}"]
    if req.current_text:
        out.append(f"  > 现行版本原文：{inert(req.current_text)}")
    return out


def check_charter(book: RequirementBook, text: str, city: str, group_type: str | None = None) -> CharterReport:
    """Check a draft charter against every requirement that applies to `city` (and its group type)."""
    if not isinstance(text, str) or not text.strip():
        raise CharterError("章程草案为空，请提供草案全文。")
    sentences = draft_sentences(text)
    scope = scope_for(book, city, group_type, "\n".join(sentences))  # type named by the draft, not a note
    results = tuple(evaluate(r, sentences) for r in scope.requirements)
    notices = list(scope.notices)
    blanks = sum(len(_PLACEHOLDER.findall(s)) for s in sentences)
    if blanks:
        notices.append(f"草案中还有 {blanks} 处【】待填写内容。")
    return CharterReport(scope.city, scope.group_type, results, tuple(notices), scope.provisional)
