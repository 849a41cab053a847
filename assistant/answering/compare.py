"""Cross-city comparison: the same question or topic answered per city, side by side, with the key
figures of each city's governing clauses, and an explicit "未作规定" where a city's documents are silent."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from assistant.answering.conclusion import conclude
from assistant.answering.extractive import cite, select, status_notices
from assistant.answering.quotes import best_quote
from assistant.chunking.clauses import split_sentences
from assistant.retrieval.analysis import Query
from assistant.retrieval.rerank import Candidate, Ranked
from assistant.domain.segment import cn_to_int
from assistant.domain.values import NOT_SPECIFIED_LABEL, PATH_SEPARATOR, Answer, Citation
from assistant.domain.topics import TOPICS, Topic

SPECIFIED = "specified"
NOT_SPECIFIED = "not_specified"
_PER_CITY = 2  # governing clauses shown per cell
_CANDIDATES = 6  # clauses retrieved per city before the signature check
_COMPARATIVE = re.compile(r"各地|各城市|各市|不同城市|对比|比较|区别|差异|有什么不同|有何不同|异同")

_NUMBER = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百]+)"
_FIGURE = re.compile(rf"(?<!第)({_NUMBER})(?:\s*[—\-~至到]\s*{_NUMBER})?\s*(个月|%|％|年|所|个|次|学期|名|人|天|周)"
                     r"|提前半年|半年")
_QUANTIFIER_BEFORE = ("限设", "不超过", "不少于", "至少", "每", "超过", "以上")
_SEGMENT = re.compile(r"[^，。；：！？,;]+")


def is_comparison(question: str, scope: tuple[str, ...]) -> bool:
    """A question that names several cities, or asks how places differ."""
    return len(scope) >= 2 or bool(_COMPARATIVE.search(question))


@dataclass(frozen=True)
class Figure:
    """A number as the clause writes it ("一般为六年"), with the citation it comes from."""

    text: str  # the verbatim phrase of the clause containing the number
    number: str  # the number with its unit, e.g. "六年", "80%"
    value: float | None
    unit: str
    n: int

    def to_dict(self) -> dict:
        return {"text": self.text, "number": self.number, "value": self.value, "unit": self.unit, "n": self.n}


@dataclass(frozen=True)
class CityCell:
    city: str
    status: str  # specified | not_specified
    citations: tuple[Citation, ...]
    figures: tuple[Figure, ...]
    reason: str = ""  # why a city counts as silent: what was looked for

    @property
    def specified(self) -> bool:
        return self.status == SPECIFIED

    def to_dict(self) -> dict:
        return {"city": self.city, "status": self.status, "reason": self.reason,
                "citations": [c.to_dict() for c in self.citations], "figures": [f.to_dict() for f in self.figures]}


@dataclass(frozen=True)
class Comparison:
    topic: str  # the topic label, or the question as asked
    topic_key: str | None
    question: str
    cells: tuple[CityCell, ...]
    notices: tuple[str, ...] = ()
    as_of: str | None = None  # the day whose versions were compared (None: those in force when asked)

    @property
    def citations(self) -> tuple[Citation, ...]:
        return tuple(c for cell in self.cells for c in cell.citations)

    def to_dict(self) -> dict:
        return {"topic": self.topic, "topic_key": self.topic_key, "question": self.question,
                "cities": [cell.to_dict() for cell in self.cells], "notices": list(self.notices), "as_of": self.as_of}

    def to_markdown(self) -> str:
        return comparison_markdown(self)

    def to_csv(self) -> str:
        return comparison_csv(self)


# ---------------------------------------------------------------- figures
def _value(number: str) -> float | None:
    digits = re.match(r"\d+(?:\.\d+)?", number)
    if digits:
        return float(digits.group())
    if "半" in number:
        return 0.5
    numeral = re.search(r"[零〇一二两三四五六七八九十百]+", number)
    value = cn_to_int(numeral.group()) if numeral else None
    return float(value) if value is not None else None


def extract_figures(text: str, n: int) -> list[Figure]:
    """Counts, terms, percentages and target years in a clause, each with its verbatim phrase."""
    figures: list[Figure] = []
    for segment in _SEGMENT.finditer(text):
        phrase = segment.group().strip()
        for m in _FIGURE.finditer(phrase):
            number = m.group()
            before = phrase[:m.start()]
            # "一所学校" or "一个章程" is an article, not a figure, unless a limit word governs it
            if number[0] == "一" and not any(before.endswith(q) for q in _QUANTIFIER_BEFORE):
                continue
            if phrase[m.end():m.end() + 1] == "一":
                continue  # "五个一", "十个一体化" name a list, they are not counts
            unit = m.group(2) or "年"
            if unit == "年" and re.fullmatch(r"\d{4}年", number) and not re.search(r"到|至|起|前|底", phrase):
                continue  # a bare calendar year (e.g. the year a document cites) says nothing comparable
            figures.append(Figure(phrase, number, _value(number), unit, n))
            break  # one figure per phrase keeps the row compact
    return figures


# ---------------------------------------------------------------- cells
def _mentions(record, terms: tuple[str, ...]) -> bool:
    heading = record.clause.split(PATH_SEPARATOR)[-1]
    return any(t in record.text or t in heading for t in terms)


def governing(ranked: Ranked, records, topic: Topic | None, answers: bool, named: bool = True) -> list[Candidate]:
    """The candidates that govern the topic in one city: for a catalogue topic asked by name (`named`), those
    naming one of its signature terms; for a question, the best ones when the city's documents answer it
    (`answers`), else, when the question falls under a catalogue topic, those naming its signature. A question
    only touches its topic: "南昌和青岛分别要求成立什么样的决策议事机构" falls under 组建 (成立) by its words,
    and the first clause naming 成立 is about founding a group, not the council the ranking puts first."""
    if topic is not None and (named or not answers):
        chosen = [c for c in ranked.candidates if _mentions(records[c.hit.row], topic.signature)]
    elif answers:
        chosen = select(ranked.candidates, records)
    else:
        chosen = []
    normative = [c for c in chosen if records[c.hit.row].status != "interpretation"]
    return (normative or chosen)[:_PER_CITY]


def _topic_quote(text: str, topic: Topic) -> str:
    """The first sentence naming the topic's signature, verbatim (the clause's best match otherwise)."""
    for sentence in split_sentences(text):
        if any(t in sentence for t in topic.signature) and len(sentence.strip()) > 12:
            return sentence.strip()
    return best_quote(text, topic.query)


def build_cell(city: str, chosen: list[Candidate], records, question: str, first_n: int, topic: Topic | None,
               silent_reason: str, query: Query | None = None) -> CityCell:
    if not chosen:
        return CityCell(city, NOT_SPECIFIED, (), (), silent_reason)
    citations = []
    figures: list[Figure] = []
    for offset, c in enumerate(chosen):
        r = records[c.hit.row]
        n = first_n + offset
        quote = _topic_quote(r.text, topic) if topic else best_quote(r.text, question, query, c.sentence_scores)
        citations.append(cite(r, c.probability, n, quote))
        figures.extend(extract_figures(r.text, n))
    return CityCell(city, SPECIFIED, tuple(citations), tuple(figures[:5]))


def silent_reason(city: str, topic: Topic | None) -> str:
    if topic is not None:
        return f"{city}的文件中没有涉及“{topic.label}”（{'、'.join(topic.signature)}）的条款。"
    return f"{city}的文件中没有找到能回答该问题的条款。"


# ---------------------------------------------------------------- rendering
def _cell_text(cell: CityCell) -> str:
    if not cell.specified:
        return NOT_SPECIFIED_LABEL
    return "<br>".join(f"「{c.quote}」[{c.n}]" for c in cell.citations)


def _figures_text(cell: CityCell) -> str:
    return "；".join(f"{f.text}[{f.n}]" for f in cell.figures) or "—"


def _escape(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ")


def comparison_markdown(comparison: Comparison) -> str:
    cells = comparison.cells
    lines = [f"## 跨城市对比：{comparison.topic}", "",
             "| | " + " | ".join(c.city for c in cells) + " |",
             "|---|" + "---|" * len(cells),
             "| 规定 | " + " | ".join(_escape(_cell_text(c)) for c in cells) + " |",
             "| 关键数字 | " + " | ".join(_escape(_figures_text(c)) if c.specified else "—" for c in cells) + " |",
             ""]
    if comparison.citations:
        lines.append("引用条款：")
        lines.extend(f"[{c.n}] {c.city}｜《{c.title}》{' ' + c.doc_number if c.doc_number else ''}｜{c.clause}"
                     for c in comparison.citations)
    lines.extend(f"提示：{n}" for n in comparison.notices)
    return "\n".join(lines) + "\n"


def comparison_csv(comparison: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["城市", "状态", "条款编号", "文件", "文号", "条款位置", "引用原文", "关键数字"])
    for cell in comparison.cells:
        if not cell.specified:
            writer.writerow([cell.city, NOT_SPECIFIED_LABEL, "", "", "", "", "", ""])
        for c in cell.citations:
            numbers = "；".join(f.text for f in cell.figures if f.n == c.n)
            writer.writerow([cell.city, "有规定", c.n, c.title, c.doc_number or "", c.clause, c.quote, numbers])
    return out.getvalue()


def comparison_answer(comparison: Comparison, docs: dict[str, dict], cities: tuple[str, ...],
                      query: Query | None = None, which: bool = False) -> Answer:
    """The comparison as an `ask` answer: per city, verbatim quotes with [n], or 未作规定. For a "which city"
    question (`which`), the cities that specify it, then one line naming those that do not."""
    specified = [c for c in comparison.cells if c.specified]
    if not specified:
        return Answer(question=comparison.question, abstained=True, cities=cities, notices=comparison.notices,
                      answer="所选城市的政策文件中都没有找到能回答该问题的条款。")
    if which:
        names = "、".join(c.city for c in specified)
        lines = [f"有相关规定的地区：{names}。"]
    else:
        lines = [f"按城市对比（{comparison.topic}）："]
    for cell in comparison.cells:
        if which and not cell.specified:
            continue
        lines.append(f"\n【{cell.city}】")
        if not cell.specified:
            lines.append(f"{NOT_SPECIFIED_LABEL}：{cell.reason}")
            continue
        for c in cell.citations:
            lines.append(f"「{c.quote}」[{c.n}]（《{c.title}》{c.clause}）")
    silent = [c.city for c in comparison.cells if not c.specified]
    if which and silent:
        lines.append(f"\n{'、'.join(silent)}：{NOT_SPECIFIED_LABEL}。")
    citations = comparison.citations
    conclusion = conclude(citations, {c.n: query for c in citations}) if query is not None else ""
    return Answer(question=comparison.question, answer="\n".join(lines), abstained=False, citations=citations,
                  notices=tuple(dict.fromkeys((*comparison.notices, *status_notices(citations, docs)))),
                  cities=cities, conclusion=conclusion)


@dataclass(frozen=True)
class Matrix:
    """Every topic × every city: the "at a glance" table a district office prints."""

    cities: tuple[str, ...]
    rows: tuple[Comparison, ...]

    def to_dict(self) -> dict:
        return {"cities": list(self.cities), "topics": [r.to_dict() for r in self.rows]}

    def to_markdown(self) -> str:
        lines = ["| 主题 | " + " | ".join(self.cities) + " |", "|---|" + "---|" * len(self.cities)]
        for row in self.rows:
            cells = []
            for cell in row.cells:
                if not cell.specified:
                    cells.append(NOT_SPECIFIED_LABEL)
                    continue
                where = "；".join(c.clause.split(PATH_SEPARATOR)[-1] for c in cell.citations)
                figures = "；".join(f.number for f in cell.figures)
                cells.append(_escape(where + (f"（{figures}）" if figures else "")))
            lines.append(f"| {row.topic} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["主题", *self.cities])
        for row in self.rows:
            writer.writerow([row.topic, *(
                " / ".join(f"{c.title} {c.clause}：{c.quote}" for c in cell.citations) if cell.specified
                else NOT_SPECIFIED_LABEL for cell in row.cells)])
        return out.getvalue()


__all__ = ["TOPICS", "Comparison", "CityCell", "Figure", "Matrix", "comparison_answer", "extract_figures",
           "is_comparison", "governing", "build_cell", "silent_reason"]
