"""Questions about a document itself (its 文号, issuer, date, status, or the text an interpretation explains),
answered from the document's catalogued metadata, cited as the document's information block. A field the
catalogue does not hold is not guessed: the answer says the document does not state it."""
from __future__ import annotations

import re

from assistant.answering.extractive import cite
from assistant.chunking.clauses import quote_units
from assistant.domain.places import aliases
from assistant.domain.segment import search_terms
from assistant.domain.values import Answer, Citation, status_label
from assistant.index.records import ChunkRecord
from assistant.retrieval.analysis import Query

INFO_CLAUSE = "文件信息"
FIELD_LABELS = {"title": "标题", "doc_number": "文号", "issuer": "发文机关", "date": "日期", "status": "状态",
                "interprets": "解读的文件", "effective_date": "施行日期"}
_IN_FORCE_WORDS = re.compile(r"施行|生效|实施|起效")
# "本办法自2021年1月1日起施行", "自印发之日起实施", "本条例自公布之日起生效"
_TAKES_EFFECT = re.compile(r"自[^。；，]{0,30}?起(?:施行|实施|生效|执行)")
_KIND_WORDS = ("解读", "征求意见稿", "共同体", "指导意见", "实施意见", "实施方案", "方案", "意见")


def pick_document(query: Query, docs: dict[str, dict], cities: tuple[str, ...]) -> str | None:
    """The document the question is about: in its cities, the one whose title shares the most of its words (an
    English question's words through the documents' terms it stands for); a place's only document when no title
    word is named ("When did Changsha's opinion take effect?")."""
    # the place is settled by the scope: its name in one title and not in another says nothing about which is asked
    places = {t for c in cities for a in aliases(c) for t in search_terms(a)}
    asked = set(search_terms(query.search_text)) - places
    in_scope = [d for d, meta in docs.items() if not cities or meta["city"] in cities]
    best, best_score = (in_scope[0] if cities and len(in_scope) == 1 else None), 0.0
    for doc_id in in_scope:
        meta = docs[doc_id]
        title = f"{meta.get('title') or ''} {meta.get('short_title') or ''}"
        score = sum(len(t) for t in asked & set(search_terms(title)))
        score += sum(3 for w in _KIND_WORDS if w in query.search_text and w in title)
        if meta.get("status") == "interpretation":
            # an interpretation's title quotes the document it explains: asked about "the opinions", the
            # document itself is meant unless the interpretation is asked for
            score += 5 if "interprets" in query.meta_fields else (0 if "解读" in query.search_text else -0.5)
        if score > best_score:
            best, best_score = doc_id, score
    return best


def info_lines(doc_id: str, docs: dict[str, dict]) -> list[tuple[str, str]]:
    """(field, line) of the document's information block, as the catalogue holds it."""
    meta = docs[doc_id]
    lines = [("title", f"标题：{meta['title']}")]
    for field in ("doc_number", "issuer", "date", "effective_date"):
        if meta.get(field):
            lines.append((field, f"{FIELD_LABELS[field]}：{meta[field]}"))
    lines.append(("status", f"状态：{status_label(meta['status'])}"))
    target = meta.get("interprets")
    if target and target in docs:
        lines.append(("interprets", f"解读的文件：《{docs[target]['title']}》"))
    return lines


def answer_about_document(question: str, query: Query, docs: dict[str, dict], cities: tuple[str, ...],
                          abstain, records: tuple[ChunkRecord, ...] = ()) -> Answer | None:
    """The answer from the document's information block. The day a document takes effect is often written only
    in its own last article ("本文件自2021年1月1日起施行"), which then answers; when neither says it, the answer
    says so. None (answer from the text as any question) when no records are given to read."""
    doc_id = pick_document(query, docs, cities)
    if doc_id is None:
        return abstain("没有找到问题所说的文件。")
    meta = docs[doc_id]
    lines = info_lines(doc_id, docs)
    held = {field: line for field, line in lines}
    wanted = [f for f in query.meta_fields if f in FIELD_LABELS]
    notes: tuple[str, ...] = ()
    if "date" in wanted and _IN_FORCE_WORDS.search(query.search_text):  # asked when it takes effect, not when issued
        if "effective_date" not in held:
            if not records:
                return None
            article = _in_force_article(question, doc_id, meta, records)
            if article is not None:
                return article
            # neither the catalogue nor the text says from when it applies: say so (with the date it bears), rather
            # than quote a clause that happens to share the question's words
            if "date" not in held:
                return abstain(f"《{meta['title']}》的文件信息和正文中都没有写明施行日期。")
            wanted, notes = ["date"], ("施行日期：文件信息和正文中都没有写明，以上为文件所署日期。",)
        else:
            wanted = ["effective_date" if f == "date" else f for f in wanted]
    missing = [f for f in wanted if f not in held]
    if missing and len(missing) == len(wanted):
        names = "、".join(FIELD_LABELS[f] for f in missing)
        return abstain(f"《{meta['title']}》的文件信息中没有{names}。")
    text = "\n".join(line for _, line in lines)
    quote = "\n".join(held[f] for f in wanted if f in held)
    citation = Citation(chunk_id=f"{doc_id}#info", doc_id=doc_id, title=meta["title"], city=meta["city"],
                        doc_number=meta.get("doc_number"), clause=INFO_CLAUSE, status=meta["status"], text=text,
                        score=1.0, n=1, quote=quote)
    parts = [held[f] for f in wanted if f in held]
    citations = (citation, *_interpreted(meta, docs, wanted))
    answer = f"《{meta['title']}》：\n" + "\n".join(f"{p}[1]" for p in parts)
    if len(citations) > 1:
        answer += f"\n所解读文件的信息见[2]（《{citations[1].title}》）。"
    in_force = _in_force_sentence(doc_id, records) if "effective_date" in wanted and len(citations) == 1 else None
    if in_force is not None:
        # the text's own words beside the catalogue's date: an amended law's closing article may name the day the
        # first version took effect, and the reader sees both rather than one silently chosen
        record, sentence = in_force
        citations = (citation, cite(record, 1.0, 2, sentence))
        answer += f"\n「{sentence}」[2]"
    if missing:
        answer += "\n" + "、".join(FIELD_LABELS[f] for f in missing) + "：文件信息中没有写明。"
    answer += "".join(f"\n{note}" for note in notes)
    # no one-line conclusion when the date shown is not the one asked for
    conclusion = "" if notes else f"{meta['city']}：" + "；".join(parts) + "[1]"
    if conclusion and in_force is not None:
        conclusion += f"；{in_force[1].rstrip('。；;')}[2]"
    notices = ()
    if meta["status"] == "draft" and "status" in wanted:
        notices = ("该文件为征求意见稿，尚未正式施行。",)
    return Answer(question=question, answer=answer, abstained=False, citations=citations, notices=notices,
                  cities=(meta["city"],), conclusion=conclusion)


def _in_force_sentence(doc_id: str, records: tuple[ChunkRecord, ...]) -> tuple[ChunkRecord, str] | None:
    """The sentence of the document saying from when it applies (its last such sentence: the closing article;
    an earlier one may speak of another text), with its row."""
    for record in reversed([r for r in records if r.doc_id == doc_id]):
        sentence = next((u for u in reversed(quote_units(record.text)) if _TAKES_EFFECT.search(u)), None)
        if sentence is not None:
            return record, sentence
    return None


def _in_force_article(question: str, doc_id: str, meta: dict, records: tuple[ChunkRecord, ...]) -> Answer | None:
    """The closing article saying from when the document applies, quoted and cited."""
    found = _in_force_sentence(doc_id, records)
    if found is not None:
        record, sentence = found
        citation = cite(record, 1.0, 1, sentence)
        return Answer(question=question, answer=f"《{meta['title']}》：\n「{sentence}」[1]", abstained=False,
                      citations=(citation,), cities=(meta["city"],),
                      conclusion=f"{meta['city']}：{sentence.rstrip('。；;')}[1]")
    return None


def _interpreted(meta: dict, docs: dict[str, dict], wanted: list[str]) -> tuple[Citation, ...]:
    """For "which document does this 解读 explain": that document's own information block, so the reader can
    open the text the interpretation is about."""
    target = meta.get("interprets")
    if "interprets" not in wanted or not target or target not in docs:
        return ()
    lines = info_lines(target, docs)
    other = docs[target]
    return (Citation(chunk_id=f"{target}#info", doc_id=target, title=other["title"], city=other["city"],
                     doc_number=other.get("doc_number"), clause=INFO_CLAUSE, status=other["status"],
                     text="\n".join(line for _, line in lines), score=1.0, n=2, quote=lines[0][1]),)
