"""A charter check report saved as Word or Markdown (the 章程 tab's downloads): the same content as the page,
with the requirement ids the page hides kept for tooling."""
from __future__ import annotations

import docx
import pytest

from assistant.charter.check import check_charter
from assistant.charter.io import write_report
from assistant.errors import CharterError

from tests.charter.test_check import BOOK, draft

pytestmark = pytest.mark.unit


def test_the_report_reads_back_from_docx_with_every_requirement_and_its_id(tmp_path):
    report = check_charter(BOOK, draft("changsha-conflicts.txt"), "长沙市")
    path = write_report(report, tmp_path / "报告.docx")
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert document.paragraphs[0].text == "章程合规检查报告：长沙市" and report.summary in text
    assert any(h.startswith("冲突（须修改）：5 项") for h in headings)
    for r in report.results:  # every requirement, with the id tooling keys on
        assert f"｜{r.requirement.id}〕" in text and r.requirement.summary in text


def test_markdown_report_and_refused_formats(tmp_path):
    report = check_charter(BOOK, draft("changsha-conflicts.txt"), "长沙市")
    assert write_report(report, tmp_path / "r.md").read_text(encoding="utf-8") == report.to_markdown()
    with pytest.raises(CharterError, match=".md 或 .docx"):
        write_report(report, tmp_path / "r.pdf")
    with pytest.raises(CharterError, match="输出目录不存在"):
        write_report(report, tmp_path / "missing" / "r.docx")
