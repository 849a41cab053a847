"""The skeleton covers every requirement, cites each clause, and passes the checker in both formats."""
from __future__ import annotations

import docx
import pytest

from assistant.charter.check import check_charter, scope_for
from assistant.charter.io import read_draft, write_skeleton
from assistant.errors import CharterError
from assistant.domain.segment import cn_ordinal
from assistant.charter.skeleton import build_skeleton

from tests.charter.test_check import BOOK, CITIES, DRAFTS

pytestmark = pytest.mark.unit  # tests marked integration below override it

CASES = [(city, group_type) for city in CITIES
         for group_type in (None, *(t.name for t in BOOK.jurisdiction(city).group_types))]


@pytest.mark.parametrize("city, group_type", CASES)
@pytest.mark.parametrize("suffix", [".md", ".docx"])
def test_checker_passes_its_own_skeleton(city, group_type, suffix, tmp_path):
    skeleton = build_skeleton(BOOK, city, group_type)
    path = write_skeleton(skeleton, tmp_path / f"charter{suffix}")
    report = check_charter(BOOK, read_draft(path), city)  # the type is read back from the outline
    assert report.group_type == group_type
    expected = {r.id for r in scope_for(BOOK, city, group_type).requirements}
    assert {r.requirement.id for r in report.results} == expected == set(skeleton.requirement_ids)
    assert report.passed, [(r.requirement.id, r.status, r.note) for r in report.results if r.status != "met"]


def test_every_article_names_the_clause_it_satisfies():
    skeleton = build_skeleton(BOOK, "长沙市")
    articles = [a for s in skeleton.sections for a in s.articles if a.requirement_ids]
    assert len({rid for a in articles for rid in a.requirement_ids}) == len(BOOK.curated("长沙市"))
    for article in articles:
        notes = article.notes(skeleton.city)
        assert notes and all(n.startswith("依据：长沙市《关于进一步优化基础教育集团化办学的指导意见》") for n in notes)
    term = next(a for a in articles if "cs-term" in a.requirement_ids)
    assert "三、主要举措 › 5. 构建退出机制 › 限定合作时间：「集团化学校合作时限一般为六年」" in term.notes("长沙市")[0]
    md = skeleton.to_markdown()
    assert "## 第七章 合作期限" in md and "第十七条　本集团合作时限为六年" in md
    assert "> 依据：" in md


def test_docx_skeleton_reads_back_with_headings_articles_and_notes(tmp_path):
    skeleton = build_skeleton(BOOK, "郑州市中原区", "引领型")
    path = write_skeleton(skeleton, tmp_path / "charter.docx")
    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == "【集团名称】章程（引领型）（框架稿）"
    assert [h for h in headings[1:]] == [f"第{cn_ordinal(i)}章 {s.title}" for i, s, _ in skeleton.numbered()]
    texts = [p.text for p in document.paragraphs]
    assert any(t.startswith("第一条　本集团名称为【集团名称】") for t in texts)
    notes = [p for p in document.paragraphs if p.text.startswith("依据：")]
    assert notes and all(run.italic for p in notes for run in p.runs)
    assert any("【征求意见稿】" in p.text for p in notes)


def test_shared_wording_becomes_one_article_citing_each_requirement():
    skeleton = build_skeleton(BOOK, "郑州市中原区")
    article = next(a for s in skeleton.sections for a in s.articles if "zy-filing" in a.requirement_ids)
    assert set(article.requirement_ids) == {"zy-adoption", "zy-filing"}
    assert article.text == "本章程经集团各成员校通过后，在区教育局备案。"


def test_conditions_are_noted():
    skeleton = build_skeleton(BOOK, "南昌市")
    article = next(a for s in skeleton.sections for a in s.articles if "nc-cross-county-filing" in a.requirement_ids)
    assert article.notes("南昌市")[0].endswith("（适用情形：义务教育学校跨县区成立教育集团时）")


def test_untyped_skeleton_lists_the_types_it_left_out():
    skeleton = build_skeleton(BOOK, "青岛市")
    assert any("可选类型：融合型、聚合型、联合型" in n for n in skeleton.notices)
    assert "qd-fusion-unified" not in skeleton.requirement_ids


def test_output_formats_and_files(tmp_path):
    skeleton = build_skeleton(BOOK, "长沙市")
    with pytest.raises(CharterError, match=r"\.md 或 \.docx"):
        write_skeleton(skeleton, tmp_path / "charter.pdf")
    with pytest.raises(CharterError, match="不支持的文件格式"):
        read_draft(tmp_path / "charter.doc")
    with pytest.raises(CharterError, match="找不到文件"):
        read_draft(tmp_path / "missing.md")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(CharterError, match="无法读取 DOCX"):
        read_draft(broken)
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes((DRAFTS / "changsha-compliant.md").read_text(encoding="utf-8").encode("gb18030"))
    assert check_charter(BOOK, read_draft(gbk), "长沙市").passed


def test_docx_drafts_with_tables_are_read(tmp_path):
    document = docx.Document()
    document.add_heading("某某教育集团章程", level=1)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "合作期限"
    table.rows[0].cells[1].text = "本集团合作期限为八年。"
    path = tmp_path / "draft.docx"
    document.save(str(path))
    text = read_draft(path)
    assert text.startswith("# 某某教育集团章程")
    report = check_charter(BOOK, text, "长沙市")
    assert next(r for r in report.results if r.requirement.id == "cs-term").status == "conflict"


def test_cn_ordinal():
    assert [cn_ordinal(n) for n in (1, 10, 12, 20, 38, 100, 105, 110)] == \
        ["一", "十", "十二", "二十", "三十八", "一百", "一百零五", "一百一十"]
