"""The topic × city overview as files (render/overview.py): the XLSX opens with both sheets, text stays text,
and the Markdown report quotes every clause."""
from __future__ import annotations

import io

import openpyxl
import pytest

from assistant.answering.compare import CityCell, Comparison, Figure, Matrix
from assistant.domain.values import Citation
from assistant.render.overview import DETAIL_COLUMNS, overview_markdown, overview_xlsx

pytestmark = pytest.mark.unit


def _citation(n: int, quote: str) -> Citation:
    return Citation(chunk_id=f"c{n}", doc_id="cs", title="指导意见", city="长沙市", doc_number="长教通〔2020〕97号",
                    clause="三、主要举措 › 限定合作时间", status="draft", text=quote + "其他。", score=0.5, n=n, quote=quote)


MATRIX = Matrix(("长沙市", "青岛市"), (
    Comparison("合作期限", "term", "合作期限", (
        CityCell("长沙市", "specified", (_citation(1, "合作时限一般为六年。"),), (Figure("一般为六年", "六年", 6.0, "年", 1),)),
        CityCell("青岛市", "not_specified", (), ()))),
    Comparison("退出与终止", "exit", "退出与终止", (
        CityCell("长沙市", "specified", (_citation(2, "=HYPERLINK(\"http://x\",\"点我\")"),), ()),
        CityCell("青岛市", "not_specified", (), ()))),
))


def test_the_spreadsheet_has_the_overview_and_every_clause_as_text():
    book = openpyxl.load_workbook(io.BytesIO(overview_xlsx(MATRIX)))
    overview, details = book["总览"], book["条款明细"]
    rows = [[c.value for c in row] for row in overview.iter_rows()]
    assert rows[0] == ["主题", "长沙市", "青岛市"]
    assert rows[1] == ["合作期限", "限定合作时间（六年）", "未作规定"]
    detail = [[c.value for c in row] for row in details.iter_rows()]
    assert tuple(detail[0]) == DETAIL_COLUMNS and len(detail) == 5  # two clauses, two silent cities
    assert detail[1][:4] == ["合作期限", "长沙市", "有规定", "指导意见"] and detail[1][-1] == "征求意见稿"
    formula = next(row for row in details.iter_rows() if str(row[6].value).startswith("="))[6]
    assert formula.data_type == "s"  # a clause is never a formula


def test_the_markdown_report_has_the_table_and_quotes_every_clause():
    text = overview_markdown(MATRIX)
    assert "| 合作期限 | 限定合作时间（六年） | 未作规定 |" in text
    assert "## 合作期限" in text and "- **长沙市**：「合作时限一般为六年。」（《指导意见》 长教通〔2020〕97号" in text
    assert "- **青岛市**：未作规定" in text
