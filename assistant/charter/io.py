"""Charter files: read a draft (TXT / Markdown / DOCX) as text; write a skeleton as Markdown or DOCX."""
from __future__ import annotations

import zipfile
from pathlib import Path

from assistant.errors import CharterError
from assistant.files import export_path, word_document, word_note
from assistant.domain.segment import cn_ordinal
from assistant.charter.skeleton import Skeleton
from assistant.charter.check import CharterReport

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUFFIXES = (*TEXT_SUFFIXES, ".docx")


def read_draft(path: str | Path) -> str:
    """The draft's text; DOCX headings come back as Markdown headings so the checker skips them."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise CharterError(f"不支持的文件格式：{suffix or '无扩展名'}（支持 .txt、.md、.docx）")
    if not path.is_file():
        raise CharterError(f"找不到文件：{path}")
    if suffix == ".docx":
        return _read_docx(path)
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Chinese Windows editors still save GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CharterError(f"无法识别文件编码：{path.name}（请另存为 UTF-8）")


def _read_docx(path: Path) -> str:
    import docx  # python-docx; imported here so text-only use stays light
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CharterError(f"无法读取 DOCX 文件：{path.name}（文件已损坏或不是 Word 文档）") from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                lines.extend(cell.text for cell in row.cells if cell.text.strip())
            continue
        style = (block.style.name if block.style is not None else "") or ""
        heading = style.startswith("Heading") or style == "Title"
        lines.append(("# " if heading else "") + block.text)
    return "\n".join(lines)


def write_skeleton(skeleton: Skeleton, path: str | Path) -> Path:
    """Write the skeleton as .md or .docx (chosen by the suffix)."""
    path = export_path(path, (".md", ".docx"), "框架稿", CharterError)
    if path.suffix.lower() == ".md":
        path.write_text(skeleton.to_markdown(), encoding="utf-8")
    else:
        skeleton_docx(skeleton).save(str(path))
    return path


def skeleton_docx(skeleton: Skeleton):
    """The skeleton as a python-docx Document: chapter headings, articles, grey italic notes."""
    document = word_document()

    def note(text: str) -> None:
        word_note(document, text, italic=True)

    document.add_heading(skeleton.title, level=0)
    for line in skeleton.preface:
        note(line)
    for i, section, articles in skeleton.numbered():
        document.add_heading(f"第{cn_ordinal(i)}章 {section.title}", level=1)
        for n, article in articles:
            document.add_paragraph(f"第{cn_ordinal(n)}条　{article.text}")
            for line in article.notes(skeleton.city):
                note(line)
    return document


def write_report(report: CharterReport, path: str | Path) -> Path:
    """Write a check report as .md or .docx (chosen by the suffix). Requirement ids stay in both, for tooling."""
    path = export_path(path, (".md", ".docx"), "检查报告", CharterError)
    if path.suffix.lower() == ".md":
        path.write_text(report.to_markdown(), encoding="utf-8")
    else:
        report_docx(report).save(str(path))
    return path


def report_docx(report: CharterReport):
    """The check report as a python-docx Document, in the order of `CharterReport.to_markdown`."""
    document = word_document()

    def grey(text: str) -> None:
        word_note(document, text)

    document.add_heading(f"章程合规检查报告：{report.city}", level=0)
    document.add_paragraph(f"集团类型：{report.group_type or '未指定'}")
    document.add_paragraph(f"检查结果：{report.summary}")
    for notice in report.notices:
        grey(f"提示：{notice}")
    for status, title in (("conflict", "冲突（须修改）"), ("missing", "缺失（须补充）"), ("met", "已符合")):
        results = report.by_status(status)
        if not results:
            continue
        document.add_heading(f"{title}：{len(results)} 项", level=1)
        for n, r in enumerate(results, start=1):
            req = r.requirement
            tag = ("待确认｜" if req.provisional else "") + ("需复核｜" if req.needs_review else "")
            document.add_heading(f"{n}. {req.summary}〔{tag}{req.kind_label}｜{req.id}〕", level=2)
            for label, value in (("适用情形", req.condition), ("草案原文", f"「{r.evidence}」" if r.evidence else ""),
                                 ("说明", r.note), ("依据", req.source.citation), ("需复核", req.review),
                                 ("现行版本原文", req.current_text)):
                if value:
                    document.add_paragraph(f"{label}：{value}", style="List Bullet")
            grey(req.source.quote)
    return document
