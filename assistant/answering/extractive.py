"""Grounded extractive answers: quotes taken verbatim from the retrieved clauses, grouped by city."""
from __future__ import annotations

from assistant.chunking.clauses import split_sentences
from assistant.domain.segment import search_terms
from assistant.domain.values import Answer, Citation, status_label
from assistant.index.records import ChunkRecord
from assistant.retrieval.hybrid import Hit
from assistant.retrieval.query import query_terms

_MAX_PER_CITY = 2
_DENSE_MARGIN = 0.005
_FUSED_RATIO = 0.98


def cite(record: ChunkRecord, score: float, n: int, quote: str) -> Citation:
    """A retrieved row as users see it: the one place a Citation is made from the index."""
    return Citation(chunk_id=record.chunk_id, doc_id=record.doc_id, title=record.title, city=record.city,
                    doc_number=record.doc_number, clause=record.clause, status=record.status, text=record.text,
                    score=round(score, 4), n=n, quote=quote, ocr=record.ocr)


def best_quote(text: str, question: str) -> str:
    """The sentence(s) of `text` sharing the most (and longest) terms with the question, verbatim."""
    terms = set(query_terms(question))
    sentences = [s for s in split_sentences(text) if s.strip()]
    if not sentences:
        return text

    def score(sentence: str) -> float:
        own = set(search_terms(sentence))
        return sum(len(t) for t in terms & own)

    scores = [score(s) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    # a sentence that only names the clause ("限定合作时间。") is extended by the next one
    quote = sentences[best]
    if len(quote.strip()) <= 12 and best + 1 < len(sentences):
        quote += sentences[best + 1]
    return quote.strip()


def select(hits: list[Hit], records: list[ChunkRecord]) -> list[Hit]:
    """The hits worth citing: each city's best, plus any close to it in both fused rank and similarity."""
    best_of_city: dict[str, Hit] = {}
    for h in hits:
        city = records[h.row].city
        if city not in best_of_city or h.score > best_of_city[city].score:
            best_of_city[city] = h
    chosen: list[Hit] = []
    per_city: dict[str, int] = {}
    for h in sorted(hits, key=lambda h: -h.score):
        city = records[h.row].city
        lead = best_of_city[city]
        close = h.score >= _FUSED_RATIO * lead.score and h.dense >= lead.dense - _DENSE_MARGIN
        if (h is lead or close) and per_city.get(city, 0) < _MAX_PER_CITY:
            per_city[city] = per_city.get(city, 0) + 1
            chosen.append(h)
    return chosen


def _same_content(a: str, b: str) -> bool:
    grams_a = {a[i:i + 2] for i in range(len(a) - 1)}
    grams_b = {b[i:i + 2] for i in range(len(b) - 1)}
    if not grams_a or not grams_b:
        return False
    return len(grams_a & grams_b) / min(len(grams_a), len(grams_b)) >= 0.6


def compose(question: str, hits: list[Hit], records: list[ChunkRecord], docs: dict[str, dict],
            cities: tuple[str, ...]) -> Answer:
    chosen = select(hits, records)
    quotes = {h.row: best_quote(records[h.row].text, question) for h in chosen}
    notices: list[str] = []

    # Prefer the normative text when an interpretation repeats it.
    normative_quotes = [quotes[h.row] for h in chosen if records[h.row].status == "official"]
    kept: list[Hit] = []
    for h in chosen:
        record = records[h.row]
        interprets = docs.get(record.doc_id, {}).get("interprets")
        if record.status == "interpretation" and any(_same_content(quotes[h.row], q) for q in normative_quotes):
            target = docs.get(interprets, {}).get("title", "正式文件")
            notices.append(f"政策解读中有相同内容，已以正式文件《{target}》为准。")
            continue
        kept.append(h)

    citations = tuple(cite(records[h.row], h.score, n, quotes[h.row]) for n, h in enumerate(kept, start=1))

    by_city: dict[str, list[Citation]] = {}
    for c in citations:
        by_city.setdefault(c.city, []).append(c)
    lines = ["根据检索到的政策条款："]
    for city, group in by_city.items():
        if len(by_city) > 1:
            lines.append(f"\n【{city}】")
        for c in group:
            source = f"《{c.title}》{c.clause}"
            lines.append(f"「{c.quote}」[{c.n}]（{source}）")
    notices.extend(status_notices(citations, docs))
    return Answer(question=question, answer="\n".join(lines), abstained=False, citations=citations,
                  notices=tuple(dict.fromkeys(notices)), cities=cities)


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


