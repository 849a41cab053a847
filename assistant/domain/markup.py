"""Text shown inside Markdown or HTML exactly as typed: policy texts, questions and model output are data."""
from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~])")


def inert(text: str) -> str:
    """Escape HTML and Markdown control characters so text shows as typed, never as markup."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))
