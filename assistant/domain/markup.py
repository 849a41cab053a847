"""Text shown inside Markdown or HTML exactly as typed: policy texts, questions and model output are data."""
from __future__ import annotations

import html
import re
import unicodedata

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
