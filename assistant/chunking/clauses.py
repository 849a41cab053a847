"""Pure functions: text normalization, the clause heading tree, and clause chunks.

A document becomes paragraphs (broken lines re-joined, markup and stray spaces removed),
paragraphs become a heading tree (一、 / （一） / 1. / （1） / 第X章 / 第X条 / lead phrases such
as "限定合作时间。"), and every clause's body becomes one chunk, or for a long clause several
chunks of whole sentences, measured in jieba tokens.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from assistant.domain.values import PATH_SEPARATOR, Chunk
from assistant.domain.segment import count_tokens

PREAMBLE = "序言"

_CN_NUM = "一二三四五六七八九十百零〇两"
_SENTENCE_END = "。！？；!?;"
_PARAGRAPH_END = _SENTENCE_END + "：:…）)」』”’"

# Heading markers, tried in order on the raw (stripped) line. Each yields (kind, marker).
_MARKERS = (
    ("chapter", re.compile(rf"^第[{_CN_NUM}\d]+章")),
    ("section", re.compile(rf"^第[{_CN_NUM}\d]+节")),
    ("article", re.compile(rf"^第[{_CN_NUM}\d]+条(?=[\s\u3000【]|$)")),
    ("cn_enum", re.compile(rf"^[{_CN_NUM}]+[、．.](?![{_CN_NUM}\d])")),
    ("paren_cn", re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    ("arabic", re.compile(r"^\d{1,2}[\.．、](?!\d)")),
    ("paren_arabic", re.compile(r"^[（(]\d{1,2}[）)]")),
    ("circled", re.compile(r"^[\u2460-\u2473]")),
    ("dash", re.compile(r"^(?:-{2,}|——)")),
)
_ALWAYS_HEADING = {"chapter", "section", "article", "cn_enum"}
_TITLE_LINE = re.compile(
    r"^[^，。；,;]{4,80}(?:意见|方案|通知|办法|规定|决定|细则|解读|规划|计划|条例|法)"
    r"(?:[（(][^）)]{1,8}[）)])?$")
_MD_HEADING = re.compile(r"^#{1,6}\s*")
_INFO_END = "<!-- INFO END -->"
_MAX_TITLE_CHARS = 30
_MAX_LEAD_CHARS = 20  # lead phrase after a marker: "（一）依法办学。坚持……"
_MAX_BARE_LEAD_CHARS = 12  # lead phrase opening an unmarked paragraph: "限定合作时间。……"


@dataclass(frozen=True)
class Paragraph:
    text: str  # normalized
    heading_kind: str | None = None  # None for body text
    title: str = ""  # path segment when this paragraph opens a clause
    has_body: bool = False  # heading line that carries clause text after its title


# ---------------------------------------------------------------- normalization

def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF \
        or ch in "“”‘’…—·"


def _join_spaces(match: re.Match, text: str) -> str:
    a = text[match.start() - 1] if match.start() > 0 else ""
    b = text[match.end()] if match.end() < len(text) else ""
    if not a or not b:
        return ""
    if (_is_cjk(a) and (_is_cjk(b) or b.isdigit())) or (a.isdigit() and _is_cjk(b)):
        return ""
    return " "


def clean_line(line: str) -> str:
    """Remove markdown bold and the spaces typesetting put inside Chinese text ("10 所" → "10所")."""
    line = line.replace("**", "").replace("__", "").strip()
    return re.sub(r"[ \t\u3000\u00a0]+", lambda m: _join_spaces(m, line), line)


def _is_title_line(text: str) -> bool:
    return bool(_TITLE_LINE.match(text)) or text.startswith(("（征求意见稿）", "(征求意见稿)"))


def _classify(raw: str) -> Paragraph:
    text = clean_line(raw)
    for kind, pattern in _MARKERS:
        m = pattern.match(raw)
        if not m:
            continue
        marker = clean_line(m.group(0))
        rest = clean_line(raw[m.end():])
        heading = _heading(kind, marker, rest)
        if heading is not None:
            title, has_body = heading
            return Paragraph(text, kind, title, has_body)
        return Paragraph(text)  # an enumerated list item inside a clause body
    lead = _lead_phrase(text, _BARE_LEAD)
    if lead:
        return Paragraph(text, "lead", lead, True)
    return Paragraph(text)


def _heading(kind: str, marker: str, rest: str) -> tuple[str, bool] | None:
    """(path segment, whether the line also carries body text), or None for a list item."""
    sep = " " if marker[-1] in ".．" and rest else ""
    display_marker = "" if kind == "dash" else marker + sep
    if kind == "article":
        return marker, bool(rest)
    lead = _lead_phrase(rest, _MARKED_LEAD)
    if lead:
        return display_marker + lead, True
    stripped = rest.rstrip("。")
    title_only = stripped and len(stripped) <= _MAX_TITLE_CHARS and not re.search(r"[，；,;。]", stripped)
    if title_only:
        # "五、本文件自2021年1月1日起施行。" is both a heading and the clause itself.
        return display_marker + stripped, rest.endswith("。") and kind in _ALWAYS_HEADING
    if kind in _ALWAYS_HEADING:
        return display_marker + stripped[:_MAX_TITLE_CHARS], True
    return None


_BARE_LEAD = re.compile(r"^([^，。；：,;:！？!?“”《》（）()]{2,%d})[。：:]" % _MAX_BARE_LEAD_CHARS)
_MARKED_LEAD = re.compile(r"^([^。；：;:！？!?]{2,%d})[。：:]" % _MAX_LEAD_CHARS)


def _lead_phrase(text: str, pattern: re.Pattern) -> str | None:
    """Return "限定合作时间" for "限定合作时间。集团化学校合作时限一般为六年…"."""
    m = pattern.match(text)
    if m and len(text) > m.end() + 1:
        return m.group(1)
    return None


def _source_lines(text: str) -> list[str]:
    if _INFO_END in text:  # LawRefBook-style markdown: info block before the body
        head, body = text.split(_INFO_END, 1)
        titles = [ln for ln in head.splitlines() if ln.startswith("# ")]
        text = "\n".join(titles) + "\n" + body
    lines = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        raw = raw.strip().replace("**", "")
        if raw.startswith("#"):
            raw = _MD_HEADING.sub("", raw)
        if raw.strip(" \t\u3000\u00a0"):
            lines.append(raw.strip(" \t\u3000\u00a0"))
    return lines


def _continues(previous: Paragraph, raw_next: str) -> bool:
    """True when `raw_next` is the rest of a sentence broken across lines."""
    prev = previous.text
    if not prev or prev[-1] in _PARAGRAPH_END or _is_title_line(prev):
        return False
    if previous.heading_kind and not previous.has_body:
        return False
    if len(prev) < 16:
        return False
    return _classify(raw_next).heading_kind in (None, "lead")


def paragraphs(text: str) -> list[Paragraph]:
    """Normalized paragraphs with heading classification; broken sentences re-joined."""
    out: list[Paragraph] = []
    raw_current = ""
    for raw in _source_lines(text):
        if out and _continues(out[-1], raw):
            raw_current = raw_current + raw
            merged = _classify(raw_current)
            out[-1] = merged
            continue
        raw_current = raw
        out.append(_classify(raw))
    return out


def normalize(text: str) -> str:
    """The document as clean paragraphs, one per line: what citations quote from."""
    return "\n".join(p.text for p in paragraphs(text))


# ---------------------------------------------------------------- clause tree

@dataclass(frozen=True)
class Clause:
    path: tuple[str, ...]
    text: str


def clauses(text: str) -> list[Clause]:
    """Each clause's own body under its heading path; headings never stand alone."""
    paras = paragraphs(text)
    first_heading = next((i for i, p in enumerate(paras)
                          if p.heading_kind and p.heading_kind != "lead"), len(paras))
    result: list[Clause] = []
    preamble = [p.text for p in paras[:first_heading] if _is_sentence(p.text)]
    if preamble:
        result.append(Clause((PREAMBLE,), "\n".join(preamble)))

    stack: list[tuple[str, str]] = []  # (kind, title)
    body: list[str] = []

    def flush() -> None:
        if body and stack:
            result.append(Clause(tuple(t for _, t in stack), "\n".join(body)))
        body.clear()

    for p in paras[first_heading:]:
        if p.heading_kind is None:
            body.append(p.text)
            continue
        flush()
        kinds = [k for k, _ in stack]
        if p.heading_kind in kinds:
            del stack[kinds.index(p.heading_kind):]
        stack.append((p.heading_kind, p.title))
        if p.has_body:
            body.append(p.text)
    flush()
    return result


def _is_sentence(text: str) -> bool:
    return any(ch in text for ch in "。；") and not _is_title_line(text)


# ---------------------------------------------------------------- chunks

def split_sentences(text: str) -> list[str]:
    """Sentences ending at 。！？； (or a line end); concatenated they give `text` back."""
    parts = re.findall(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』）)]*|\n|$)", text)
    return [p for p in parts if p]


def quote_units(text: str) -> list[str]:
    """The sentences a quote is made of, stripped, each a verbatim substring of `text` (empty ones dropped)."""
    return [s.strip() for s in split_sentences(text) if s.strip()]


def _pack(text: str, max_tokens: int) -> list[str]:
    # every token is at least one character, so a short clause needs no segmentation to fit
    if len(text) <= max_tokens or count_tokens(text) <= max_tokens:
        return [text]
    groups: list[str] = []
    current, size = "", 0
    for sentence in split_sentences(text):
        n = count_tokens(sentence)
        if current and size + n > max_tokens:
            groups.append(current)
            current, size = "", 0
        current += sentence
        size += n
    if current.strip():
        groups.append(current)
    return [g.strip("\n") for g in groups if g.strip()]


def chunk_id(doc_id: str, path: tuple[str, ...], text: str) -> str:
    digest = hashlib.sha1(f"{doc_id}\n{PATH_SEPARATOR.join(path)}\n{text}".encode("utf-8"))
    return digest.hexdigest()[:16]


def chunk_document(doc_id: str, text: str, max_tokens: int = 200) -> list[Chunk]:
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for clause in clauses(text):
        pieces = _pack(clause.text, max_tokens)
        for i, piece in enumerate(pieces, start=1):
            cid = chunk_id(doc_id, clause.path, piece)
            while cid in seen:  # identical text under the same path: keep both, distinctly
                cid = chunk_id(doc_id, clause.path, piece + f"\n#{len(seen)}")
            seen.add(cid)
            context = _subject(pieces[i - 2]) if i > 1 else ""
            chunks.append(Chunk(cid, doc_id, clause.path, piece, len(chunks), i, len(pieces), context))
    return chunks


def _subject(previous: str, limit: int = 30) -> str:
    """The first phrase of the sentence before a split: what a piece starting mid-clause is about."""
    units = quote_units(previous)
    if not units:
        return ""
    return re.split(r"[，,；;：:]", units[-1])[0].strip()[:limit]
