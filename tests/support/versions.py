"""The draft → final scenario built inside a test: the bundled 中原区 征求意见稿 with known edits, saved as its
final text (never stored in the repository)."""
from __future__ import annotations

from pathlib import Path

DRAFT_ID = "zhongyuan-jituan-draft"
FINAL_EFFECTIVE = "2023-03-01"
# (draft wording, final wording): two changed clauses; a third edit adds a clause at the end
EDITS = (("优质教育集团不少于10个", "优质教育集团不少于12个"),
         ("集团内每年应组织开展", "集团内每学期应组织开展"))
ADDED = "（五）健全退出机制。成员校办学质量达到优质标准的，经区教育局同意后可退出教育集团。"


def final_text(corpus_dir: Path) -> str:
    text = (corpus_dir / "docs" / f"{DRAFT_ID}.txt").read_text(encoding="utf-8")
    text = text.replace("（征求意见稿）\n", "", 1)
    for old, new in EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.rstrip() + f"\n\n{ADDED}\n"


def write_final(corpus_dir: Path, folder: Path) -> Path:
    path = folder / "中原区推进公办中小学集团化办学实施方案.txt"
    path.write_text(final_text(corpus_dir), encoding="utf-8")
    return path
