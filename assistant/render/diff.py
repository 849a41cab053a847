"""A version comparison (chunking/diff.py `VersionDiff`) saved as Markdown, JSON or Word: in Word the removed
characters are struck through in red and the added ones underlined in green, as in a marked-up draft."""
from __future__ import annotations

import json
from pathlib import Path

from assistant.chunking.diff import VersionDiff
from assistant.errors import AssistantError
from assistant.files import export_path, word_document, word_note

_RED = (0xC0, 0x1C, 0x28)
_GREEN = (0x1A, 0x7F, 0x37)
SUFFIXES = (".md", ".json", ".docx")


def write_diff(diff: VersionDiff, path: str | Path) -> Path:
    """Write the comparison as .md, .json or .docx (chosen by the suffix)."""
    path = export_path(path, SUFFIXES, "版本对比", AssistantError)
    suffix = path.suffix.lower()
    if suffix == ".md":
        path.write_text(diff.to_markdown(), encoding="utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(diff.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        diff_docx(diff).save(str(path))
    return path


def _side_line(side: str, doc: dict) -> str:
    parts = [f"{side}：《{doc.get('title') or ''}》"]
    parts += [str(doc[k]) for k in ("doc_number", "version", "force_label") if doc.get(k)]
    return "｜".join(parts + [str(doc.get("doc_id"))])


def diff_docx(diff: VersionDiff):
    """The comparison as a python-docx Document: one heading per changed, added or removed clause."""
    from docx.shared import RGBColor

    document = word_document()

    def grey(text: str) -> None:
        word_note(document, text)

    document.add_heading(f"版本对比：《{diff.new.get('title') or diff.old.get('title') or ''}》", level=0)
    document.add_paragraph(_side_line("旧版本", diff.old))
    document.add_paragraph(_side_line("新版本", diff.new))
    document.add_paragraph(f"共 {len(diff.changes)} 处条款：{diff.summary()}。")
    if not diff.edits:
        document.add_paragraph("两个版本的条款内容相同。")
    for change in diff.edits:
        document.add_heading(f"【{'｜'.join(change.tags)}】{change.label}", level=2)
        grey(f"位置：{change.old or ''} → {change.new or ''}" if change.kind == "changed" and change.old != change.new
             else f"位置：{change.new or change.old or ''}")
        paragraph = document.add_paragraph()
        if change.kind != "changed":
            run = paragraph.add_run(change.new_text if change.kind == "added" else change.old_text)
            run.font.color.rgb = RGBColor(*(_GREEN if change.kind == "added" else _RED))
            run.font.strike = change.kind == "removed"
            continue
        for op, text in change.segments:
            run = paragraph.add_run(text)
            if op == "delete":
                run.font.strike = True
                run.font.color.rgb = RGBColor(*_RED)
            elif op == "insert":
                run.font.underline = True
                run.font.color.rgb = RGBColor(*_GREEN)
    return document
