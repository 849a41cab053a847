"""The topic × city overview (`Matrix`) as files to keep: a Markdown report with every quoted clause, and a
spreadsheet (XLSX through openpyxl) with the overview on one sheet and the clauses on another."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING

from assistant.domain.values import NOT_SPECIFIED_LABEL, PATH_SEPARATOR, status_label

if TYPE_CHECKING:
    from assistant.answering.compare import CityCell, Matrix

DETAIL_COLUMNS = ("主题", "城市", "是否规定", "文件", "文号", "条款位置", "引用原文", "关键数字", "文件状态")


def _summary(cell: CityCell) -> str:
    """A cell of the overview: the clause headings and the key figures, or 未作规定."""
    if not cell.specified:
        return NOT_SPECIFIED_LABEL
    where = "；".join(c.clause.split(PATH_SEPARATOR)[-1] for c in cell.citations)
    figures = "；".join(f.number for f in cell.figures)
    return where + (f"（{figures}）" if figures else "")


def detail_rows(matrix: Matrix) -> list[tuple[str, ...]]:
    """One row per quoted clause (and one per city that says nothing on a topic)."""
    rows = []
    for row in matrix.rows:
        for cell in row.cells:
            if not cell.specified:
                rows.append((row.topic, cell.city, NOT_SPECIFIED_LABEL, "", "", "", "", "", ""))
                continue
            for c in cell.citations:
                figures = "；".join(f.text for f in cell.figures if f.n == c.n)
                rows.append((row.topic, cell.city, "有规定", c.title, c.doc_number or "", c.clause,
                             c.quote or c.text, figures, status_label(c.status)))
    return rows


def _md(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ")


def overview_markdown(matrix: Matrix) -> str:
    """The overview table, then each topic city by city with the quoted clauses."""
    lines = ["# 集团化办学政策：全部主题总览", "", f"城市：{'、'.join(matrix.cities)}", "",
             "| 主题 | " + " | ".join(_md(c) for c in matrix.cities) + " |", "|---|" + "---|" * len(matrix.cities)]
    lines += [f"| {_md(row.topic)} | " + " | ".join(_md(_summary(cell)) for cell in row.cells) + " |"
              for row in matrix.rows]
    for row in matrix.rows:
        lines += ["", f"## {row.topic}", ""]
        for cell in row.cells:
            if not cell.specified:
                lines.append(f"- **{cell.city}**：{NOT_SPECIFIED_LABEL}")
                continue
            for c in cell.citations:
                number = f" {c.doc_number}" if c.doc_number else ""
                lines.append(f"- **{cell.city}**：「{_md(c.quote or c.text)}」（《{c.title}》{number}，{c.clause}）")
    return "\n".join(lines) + "\n"


def _put(sheet, row: int, column: int, value: str) -> None:
    """A text cell that stays text: a clause starting with "=" must not become a spreadsheet formula."""
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    cell.data_type = "s"


def overview_xlsx(matrix: Matrix) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    overview = book.active
    overview.title = "总览"
    details = book.create_sheet("条款明细")
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="EFF6FF")
    wrap = Alignment(wrap_text=True, vertical="top")
    tables = ((overview, ("主题", *matrix.cities),
               [(row.topic, *(_summary(cell) for cell in row.cells)) for row in matrix.rows]),
              (details, DETAIL_COLUMNS, detail_rows(matrix)))
    for sheet, header, rows in tables:
        for j, value in enumerate(header, start=1):
            _put(sheet, 1, j, value)
            sheet.cell(row=1, column=j).font, sheet.cell(row=1, column=j).fill = head_font, head_fill
        for i, values in enumerate(rows, start=2):
            for j, value in enumerate(values, start=1):
                _put(sheet, i, j, value)
                sheet.cell(row=i, column=j).alignment = wrap
        sheet.freeze_panes = "B2"
        for j, _ in enumerate(header, start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=j).column_letter].width = 14 if j == 1 else 36
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
