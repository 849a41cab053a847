"""Grounded extractive answers: quotes taken verbatim from the retrieved clauses, grouped by city."""
from __future__ import annotations

from assistant.answering.conclusion import conclude
from assistant.answering.quotes import best_quote
from assistant.domain.values import Answer, Citation, status_label
from assistant.index.records import ChunkRecord
from assistant.retrieval.analysis import Query
from assistant.retrieval.rerank import Candidate

_MAX_PER_CITY = 2
_SECOND_RATIO = 0.85  # a second clause of the same city is cited when nearly as probable as the best
_OTHER_PLACE_RATIO = 0.2  # another place is cited when its best clause is at least this share as probable


def cite(record: ChunkRecord, score: float, n: int, quote: str) -> Citation:
    """A retrieved row as users see it: the one place a Citation is made from the index."""
    return Citation(chunk_id=record.chunk_id, doc_id=record.doc_id, title=record.title, city=record.city,
                    doc_number=record.doc_number, clause=record.clause, status=record.status, text=record.text,
                    score=round(score, 4), n=n, quote=quote, context=record.context, ocr=record.ocr,
                    level=record.level)


def select(candidates: list[Candidate], records: list[ChunkRecord], across_places: bool = False) -> list[Candidate]:
    """The candidates worth citing, in the order given (the ranking stage's: a clause named by its number
    first, a cross-encoder's order when one is configured): each city's first, and a second nearly as probable.
    `across_places`: the question names no place, so the places are alternatives, and one far weaker than the
    best is left out; the layers of one place (city, province, nation) are not alternatives and are all kept."""
    chosen: list[Candidate] = []
    best: dict[str, float] = {}
    top = max((c.probability for c in candidates), default=0.0)
    for c in candidates:
        city = records[c.hit.row].city
        if across_places and city not in best and best and c.probability < _OTHER_PLACE_RATIO * top:
            continue  # a question naming no place: a place whose best clause is far weaker does not address it
        if city not in best:
            # the clause a question names by its number is the whole answer: nothing beside it
            best[city] = float("inf") if c.hit.structural else c.probability
            chosen.append(c)
        elif c.probability >= _SECOND_RATIO * best[city] and sum(
                records[x.hit.row].city == city for x in chosen) < _MAX_PER_CITY:
            chosen.append(c)
    return chosen


def _same_content(a: str, b: str) -> bool:
    grams_a = {a[i:i + 2] for i in range(len(a) - 1)}
    grams_b = {b[i:i + 2] for i in range(len(b) - 1)}
    if not grams_a or not grams_b:
        return False
    return len(grams_a & grams_b) / min(len(grams_a), len(grams_b)) >= 0.6


def compose(question: str, picks: list[tuple[Candidate, Query | None]], records: list[ChunkRecord],
            docs: dict[str, dict], cities: tuple[str, ...]) -> Answer:
    """Quotes of the chosen candidates grouped by city, with a conclusion line composed of their phrases.
    `picks` pairs each candidate with the question (part) it answers; one clause may answer two parts with
    two different sentences."""
    quoted: list[tuple[Candidate, Query | None, str]] = []
    for c, query in picks:
        quote = best_quote(records[c.hit.row].text, question, query, c.sentence_scores)
        if not any(c.hit.row == x.hit.row and quote == q for x, _, q in quoted):
            quoted.append((c, query, quote))
    notices: list[str] = []
    # Prefer the normative text when an interpretation repeats it.
    normative = [q for c, _, q in quoted if records[c.hit.row].status == "official"]
    kept = []
    for c, query, quote in quoted:
        record = records[c.hit.row]
        if record.status == "interpretation" and any(_same_content(quote, q) for q in normative):
            target = docs.get(docs.get(record.doc_id, {}).get("interprets"), {}).get("title", "正式文件")
            notices.append(f"政策解读中有相同内容，已以正式文件《{target}》为准。")
            continue
        kept.append((c, query, quote))
    citations = tuple(cite(records[c.hit.row], c.probability, n, quote)
                      for n, (c, _, quote) in enumerate(kept, start=1))
    by_city: dict[str, list[Citation]] = {}
    for c in citations:
        by_city.setdefault(c.city, []).append(c)
    lines = ["根据检索到的政策条款："]
    for city, group in by_city.items():
        if len(by_city) > 1:
            lines.append(f"\n【{city}】")
        for c in group:
            lines.append(f"「{c.quote}」[{c.n}]（《{c.title}》{c.clause}）")
    notices.extend(status_notices(citations, docs))
    queries = {cit.n: query for cit, (_, query, _) in zip(citations, kept) if query is not None}
    conclusion = conclude(citations, queries) if len(queries) == len(citations) else ""
    return Answer(question=question, answer="\n".join(lines), abstained=False, citations=citations,
                  notices=tuple(dict.fromkeys(notices)), cities=cities, conclusion=conclusion)


def status_notices(citations: tuple[Citation, ...], docs: dict[str, dict]) -> list[str]:
    """Warnings for cited clauses that are not normative text (drafts, interpretations) or were read by OCR."""
    notices: list[str] = []
    for c in citations:
        if c.status == "draft":
            notices.append(f"[{c.n}] 出自{status_label(c.status)}，尚未正式施行，仅供参考。")
        elif c.status == "interpretation":
            target = docs.get(docs.get(c.doc_id, {}).get("interprets") or "", {}).get("title")
            basis = f"以《{target}》正文为准" if target else "以正式文件为准"
            notices.append(f"[{c.n}] 出自{status_label(c.status)}，不是规范性条款，{basis}。")
        if c.ocr:
            notices.append(f"[{c.n}] 的文字由扫描件经 OCR 识别，可能有个别错字，请以原件为准。")
    return notices


