"""Text shown inside Markdown or HTML exactly as typed: policy texts, questions and model output are data."""
from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

_MAX_NAME_CHARS = 120
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~])")


def inert(text: str) -> str:
    """Escape HTML and Markdown control characters so text shows as typed, never as markup."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))


def safe_name(filename: str) -> str:
    """The last path component without control characters, shortened: for display only."""
    name = str(filename).replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    name = re.sub(r"\s+", " ", name) or "upload"
    if len(name) > _MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:10] if dot else ""
        name = (stem if dot else name)[:_MAX_NAME_CHARS - len(ext) - 1] + ("." + ext if ext else "")
    return name


_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.S)


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt  # a maintained CommonMark parser rather than our own patterns

    return MarkdownIt("commonmark")


def plain(line: str) -> str:
    """One line of Markdown or HTML as the text a reader sees: '# **山东省**学校安全条例<br>' → '山东省学校安全条例'.
    Headings, emphasis, links, list and quote markers, tags, comments and entities go; the words stay."""
    if not any(c in line for c in "#*_`[]<>&-+=|~") and not line.startswith(("    ", "\t")):
        return line  # nothing Markdown or HTML could mean (most lines of a policy text): skip the parser
    out: list[str] = []
    for token in _markdown().parse(line):
        if token.type == "inline":
            out.extend(c.content if c.type in ("text", "code_inline") else " " if c.type.endswith("break") else ""
                       for c in token.children or ())
        elif token.type in ("code_block", "fence"):
            out.append(token.content)
        elif token.type == "html_block":
            out.append(_TAG.sub("", token.content))
    return html.unescape("".join(out)).replace("\xa0", " ").strip()
