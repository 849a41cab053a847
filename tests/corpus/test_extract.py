"""File → text and text → metadata, on real PDFs and DOCX files made here, and on hostile input
(RELIABILITY.md ingest items 1–7). No index, no embedder."""
from __future__ import annotations

import os
import time

import pytest

from assistant.corpus import extract as extract_module
from assistant.chunking.clauses import chunk_document, normalize
from assistant.config import Settings
from assistant.corpus.manifest import load_corpus
from assistant.errors import IngestError
from assistant.corpus.extract import Limits, decode_text, extract, garble_reason, reflow, sniff
from assistant.corpus.plan import make_doc_id, read_source
from assistant.domain.markup import safe_name
from assistant.corpus.metadata import DocMeta, jurisdiction, suggest

from tests.conftest import CORPUS
from tests.support.samples import (XIANGTAN, ZHUZHOU, cyclic_pdf, garbled_pdf, make_docx, make_pdf,
                      make_typeset_pdf, slow_pdf)

pytestmark = pytest.mark.unit  # tests marked integration below override it

LIMITS = Limits.of(Settings.from_env(corpus_dir=CORPUS, index_dir="/nonexistent"))


def _clauses(text: str) -> list[tuple[str, str]]:
    return [(c.clause, c.text) for c in chunk_document("doc", text)]


def _flat(clauses):
    # a PDF keeps no paragraph breaks inside a clause when a wrapped line happens to end a sentence
    return [(path, text.replace("\n", "")) for path, text in clauses]


# ---------------------------------------------------------------- PDF and DOCX

@pytest.mark.parametrize("footer", ["第 {n} 页 共 {total} 页", "- {n} -", "{n}"])
def test_multi_page_pdf_loses_headers_footers_and_page_numbers_and_keeps_every_clause(footer):
    data = make_pdf(ZHUZHOU, width=22, lines_per_page=8, header="集团化办学政策文件汇编", page_numbers=footer)
    result = extract(data, "zhuzhou.pdf", LIMITS)
    assert result.format == "pdf" and result.pages >= 4
    assert "集团化办学政策文件汇编" not in result.text
    assert "第 1 页" not in result.text and "- 2 -" not in result.text
    assert not any(line.strip().isdigit() for line in result.text.splitlines())
    # lines broken at the page width (and across pages) are paragraphs again
    assert "集团内教师交流轮岗比例每年不低于符合条件教师总数的15%，骨干教师不低于交流总数的20%" in result.text
    assert _flat(_clauses(result.text)) == _flat(_clauses(ZHUZHOU))
    assert result.text == ZHUZHOU.strip()  # here even every paragraph break comes back


@pytest.mark.parametrize("doc", load_corpus(CORPUS), ids=lambda d: d.doc_id)
def test_every_bundled_document_typeset_as_a_pdf_comes_back_clause_for_clause(doc):
    text = normalize(doc.text)
    result = extract(make_typeset_pdf(text), f"{doc.doc_id}.pdf", LIMITS)
    assert result.pages >= 2 and "—" not in result.text.splitlines()[-1]
    assert _flat(_clauses(result.text)) == _flat(_clauses(text))


def test_docx_body_tables_and_automatic_numbering_without_the_page_header():
    data = make_docx(XIANGTAN, table=[["项目", "要求"], ["联合教研", "每学期不少于4次"]],
                     numbered=["建立集团章程。", "建立理事会制度。"])
    result = extract(data, "xiangtan.docx", LIMITS)
    assert "页眉" not in result.text
    assert result.text.startswith(XIANGTAN.strip())
    assert "1.建立集团章程。\n2.建立理事会制度。" in result.text
    assert "联合教研｜每学期不少于4次" in result.text
    assert _clauses(XIANGTAN.strip()) == _clauses(result.text.split("\n1.")[0])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_text_encodings_decode_exactly(encoding):  # RELIABILITY 6
    result = extract(XIANGTAN.encode(encoding), "xiangtan.txt", LIMITS)
    assert result.text == XIANGTAN.strip()


def test_undecodable_text_fails_explicitly():  # RELIABILITY 6
    with pytest.raises(IngestError, match="无法识别文本编码"):
        extract(XIANGTAN.encode("big5", errors="replace"), "xiangtan.txt", LIMITS)
    with pytest.raises(IngestError, match="无法识别文本编码"):
        extract(os.urandom(4000), "random.txt", LIMITS)
    with pytest.raises(IngestError, match="UTF-16"):
        decode_text(b"\xff\xfe" + b"\x00\xd8" * 3)  # BOM, then lone surrogates


def test_reflow_keeps_titles_numbers_dates_and_headings_on_their_own_lines():
    lines = ["株洲市教育局关于推进义务教育集团化办学的实施方案", "株教发〔2023〕12号",
             "为扩大优质教育资源覆盖面，推动义务教育优质", "均衡发展，制定本方案。", "一、总体目标",
             "到2025年，全市义务教育阶段集团化办学覆盖率达", "到80%以上。", "株洲市教育局", "2023年8月15日"]
    assert reflow(lines) == [
        "株洲市教育局关于推进义务教育集团化办学的实施方案", "株教发〔2023〕12号",
        "为扩大优质教育资源覆盖面，推动义务教育优质均衡发展，制定本方案。", "一、总体目标",
        "到2025年，全市义务教育阶段集团化办学覆盖率达到80%以上。", "株洲市教育局", "2023年8月15日"]


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("data", [b"", os.urandom(3000)], ids=["empty", "random-bytes"])
def test_empty_file_or_random_bytes_named_pdf_is_rejected(data):  # RELIABILITY 1
    with pytest.raises(IngestError) as err:
        extract(data, "policy.pdf", LIMITS)
    assert "为空" in str(err.value) or "签名不符" in str(err.value)


def test_encrypted_pdf_is_reported_as_such_and_owner_only_protection_is_read():  # RELIABILITY 2
    with pytest.raises(IngestError, match="已加密"):
        extract(make_pdf(ZHUZHOU, userPassword="secret", ownerPassword="owner"), "locked.pdf", LIMITS)
    opened = extract(make_pdf(ZHUZHOU, userPassword="", ownerPassword="owner"), "no-copy.pdf", LIMITS)
    assert "株教发〔2023〕12号" in opened.text


@pytest.mark.parametrize("sample,limits,message", [
    (lambda: slow_pdf(2, 100), Limits(LIMITS.max_bytes, LIMITS.max_chars, 2, 1024), "超过 2 秒"),
    (lambda: slow_pdf(30, 1), Limits(LIMITS.max_bytes, LIMITS.max_chars, 60, 160), "内存限制"),
    (cyclic_pdf, LIMITS, "已损坏"),
], ids=["never-ending", "memory-hungry", "cyclic-page-tree"])
def test_pdf_parsing_is_bounded_in_time_and_memory(sample, limits, message):  # RELIABILITY 3
    data = sample()
    assert len(data) < 100_000
    started = time.monotonic()
    with pytest.raises(IngestError, match=message):
        extract(data, "bomb.pdf", limits)
    assert time.monotonic() - started < 30


def test_partly_scanned_pdf_warns_which_pages_were_skipped():
    text_pages = extract_module.pdf_text(["第一页的正文内容，共有足够多的文字。", "", "第三页的正文内容，也有足够多的文字。"])
    assert "第 2 页没有文字层" in text_pages[1][0]


@pytest.mark.parametrize("code_point,reason", [(0xE000, "无法显示"), (0x00C0, "编码错乱"), (0x9F80, "生僻字")],
                         ids=["private-use", "latin-mojibake", "rare-cjk"])
def test_pdf_with_garbled_font_is_flagged_not_indexed(code_point, reason):  # RELIABILITY 5
    with pytest.raises(IngestError, match="乱码") as err:
        extract(garbled_pdf(code_point), "garbled.pdf", LIMITS)
    assert reason in str(err.value)


def test_garble_check_passes_every_bundled_document():
    for doc in load_corpus(CORPUS):
        assert garble_reason(doc.text) is None, doc.doc_id
    mojibake = ZHUZHOU.encode("utf-8").decode("gbk", errors="replace")
    assert garble_reason(mojibake) is not None


@pytest.mark.parametrize("data,name,looks_like", [
    (b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>", "policy.pdf", "HTML"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "policy.pdf", "SVG"),
    (b"%PDF-1.4\n%%EOF", "policy.txt", "PDF"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "policy.docx", "图片"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "policy.docx", "旧版 Word"),
], ids=["html-as-pdf", "svg-as-pdf", "pdf-as-txt", "png-as-docx", "doc-as-docx"])
def test_wrong_signature_is_rejected(data, name, looks_like):  # RELIABILITY 7
    with pytest.raises(IngestError, match=looks_like):
        extract(data, name, LIMITS)


def test_zip_that_is_not_a_word_document_and_unknown_types_are_rejected():
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(IngestError, match="不是 Word 文档"):
        extract(buf.getvalue(), "policy.docx", LIMITS)
    with pytest.raises(IngestError, match="不支持的文件类型 .exe"):
        extract(b"MZ\x90\x00", "policy.exe", LIMITS)


def test_oversized_file_is_rejected_before_it_is_read_or_parsed(tmp_path, monkeypatch):  # RELIABILITY 7
    monkeypatch.setattr(extract_module, "_run_parser", lambda *a: pytest.fail("parsed an oversized file"))
    big = tmp_path / "huge.pdf"
    with open(big, "wb") as fh:  # sparse: 30 MB on paper, nothing on disk
        fh.truncate(30 * 1024 * 1024)
    with pytest.raises(IngestError, match="文件过大（30.0 MB），上限为 20 MB"):
        read_source(big, None, LIMITS)
    with pytest.raises(IngestError, match="文件过大"):
        extract(b"%PDF-1.4" + b"\x00" * (LIMITS.max_bytes + 1), "huge.pdf", LIMITS)


def test_hostile_upload_names_give_safe_display_names_and_ids():  # RELIABILITY 9 (names)
    sha = "ab" * 32
    for name in ["../../../etc/passwd.txt", "/etc/cron.d/x.txt", "..\\..\\windows\\win.ini.txt",
                 "a" * 300 + ".txt", "\x00\x1b[31m红色.txt", ".hidden.txt", "株洲方案.pdf"]:
        shown = safe_name(name)
        assert "/" not in shown and "\\" not in shown and len(shown) <= 120
        assert not shown.startswith(".") and all(c.isprintable() for c in shown)
        doc_id = make_doc_id(name, sha, set())
        assert doc_id.endswith("-abababab") and all(c.isalnum() or c == "-" for c in doc_id)
        assert len(doc_id) <= 41
    assert make_doc_id("株洲方案.pdf", sha, set()) == "doc-abababab"
    assert make_doc_id("Zhuzhou Plan 2023.pdf", sha, {"zhuzhou-plan-2023-abababab"}) == "zhuzhou-plan-2023-abababababab"


def test_sniff_names_what_the_bytes_are():
    assert sniff(b"  %PDF-1.7") == "pdf"
    assert sniff(b"PK\x03\x04") == "zip"
    assert sniff("\ufeff<html>".encode("utf-8")) == "html"
    assert sniff("一、总体要求".encode("utf-8")) == "text"


# ---------------------------------------------------------------- metadata

def test_metadata_read_from_the_bundled_documents_matches_the_curated_manifest():
    docs = {d.doc_id: d for d in load_corpus(CORPUS)}
    known = tuple(dict.fromkeys(d.city for d in docs.values()))
    fields = ("title", "city", "doc_number", "date", "status")
    for doc_id, expected_missing in [("changsha-jituan-2020", ()), ("nanchang-jituan-2021", ()),
                                     ("nanchang-gongtongti", ()), ("zhongyuan-jituan-draft", ()),
                                     ("qingdao-jiedu", ()), ("qingdao-yijian", ("city",))]:
        doc = docs[doc_id]
        meta = suggest(doc.text, known)
        for field in fields:
            if field in expected_missing:
                assert getattr(meta, field) is None, (doc_id, field)
            else:
                assert getattr(meta, field) == getattr(doc, field), (doc_id, field)
    assert suggest(docs["changsha-jituan-2020"].text).issuer == "长沙市教育局"
    assert suggest(docs["nanchang-jituan-2021"].text).issuer == "南昌市教育局"


def test_metadata_of_a_new_document():
    meta = suggest(ZHUZHOU)
    assert meta == DocMeta(title="株洲市教育局关于推进义务教育集团化办学的实施方案",
                           short_title="株洲推进义务教育集团化办学实施方案", city="株洲市", issuer="株洲市教育局",
                           doc_number="株教发〔2023〕12号", date="2023-08-15", status="official", level="city",
                           place_code="430200", adopted_date="2023-08-15", effective_date="2023-09-01")
    draft = suggest(XIANGTAN)
    assert draft.status == "draft" and draft.city == "湘潭市" and draft.date == "2024-03-01"
    assert draft.title == "湘潭市教育局关于深化集团化办学改革的指导意见（征求意见稿）"
    signed = suggest("关于加强教师队伍建设的意见\n一、总体要求\n加强教师队伍建设。\n江西省教育厅\n二〇二一年十二月三十日")
    assert (signed.issuer, signed.city, signed.date) == ("江西省教育厅", "江西省", "2021-12-30")


def test_overrides_win_and_are_validated():
    meta = suggest(ZHUZHOU).merged({"city": "株洲市天元区", "status": "征求意见稿", "doc_number": None})
    assert meta.city == "株洲市天元区" and meta.status == "draft" and meta.doc_number == "株教发〔2023〕12号"
    assert meta.short_title == "天元区推进义务教育集团化办学实施方案"
    with pytest.raises(IngestError, match="状态无效"):
        suggest(ZHUZHOU).merged({"status": "secret"})
    with pytest.raises(IngestError, match="未知的元数据字段"):
        suggest(ZHUZHOU).merged({"file": "../../x"})


def test_overrides_of_the_new_fields_are_validated_and_the_city_brings_its_layer():
    meta = suggest(ZHUZHOU).merged({"city": "山东省", "effective_date": "2024年3月1日", "validity": "试行"})
    assert (meta.city, meta.level, meta.place_code) == ("山东省", "province", "370000")
    assert (meta.effective_date, meta.validity) == ("2024-03-01", "trial")
    unknown = suggest(ZHUZHOU).merged({"city": "雄安新区"})  # accepted, but outside the layers
    assert (unknown.city, unknown.level, unknown.place_code) == ("雄安新区", None, None)
    with pytest.raises(IngestError, match="日期无效"):
        suggest(ZHUZHOU).merged({"effective_date": "下个月"})
    with pytest.raises(IngestError, match="效力状态无效"):
        suggest(ZHUZHOU).merged({"validity": "永久"})


def test_metadata_of_a_manifest_entry_written_before_levels_existed():
    entry = {"title": "关于推进中小学集团化办学的意见", "city": "青岛市", "status": "official", "history": ["2019-01-01 印发"]}
    meta = DocMeta.of(entry)
    assert (meta.level, meta.place_code, meta.history) == ("city", "370200", ("2019-01-01 印发",))
    assert DocMeta.of(meta.to_dict()) == meta


@pytest.mark.parametrize("name,city", [
    ("长沙市教育局", "长沙市"), ("郑州市中原区教育局", "郑州市中原区"), ("中原区教育局", "郑州市中原区"),
    ("上海市浦东新区教育局", "上海市浦东新区"), ("江西省教育厅", "江西省"), ("本市教育局", None),
    ("关于推进中小学集团化办学的意见", None), ("青岛市人民代表大会常务委员会", "青岛市"),
    ("山东省教育厅、山东省财政厅", "山东省"), ("国务院办公厅", "全国"), ("教育部", "全国"),
    ("朝阳区教育委员会", None),  # 北京 and 长春 both have one: not guessed
])
def test_jurisdiction_of_an_issuer(name, city):
    assert jurisdiction(name, ("郑州市中原区", "长沙市")) == city
