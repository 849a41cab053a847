"""Real test files made from policy text: PDFs (reportlab, STSong-Light), DOCX (python-docx), and
hand-built hostile PDFs (garbled fonts, parser bombs)."""
from __future__ import annotations

import io
import zlib

ZHUZHOU = """株洲市教育局关于推进义务教育集团化办学的实施方案
株教发〔2023〕12号
各县市区教育局，市直各学校：
为扩大优质教育资源覆盖面，推动义务教育优质均衡发展，结合本市实际，制定本方案。
一、总体目标
到2025年，全市义务教育阶段集团化办学覆盖率达到80%以上，每个教育集团成员校原则上不超过6所。
二、主要任务
（一）完善集团治理。教育集团实行理事会领导下的总校长负责制，集团章程报市教育局备案，集团内各学校法人地位不变。
（二）推动教师交流。集团内教师交流轮岗比例每年不低于符合条件教师总数的15%，骨干教师不低于交流总数的20%，交流期限一般不少于两年。
（三）共享课程资源。集团内学校每学期至少开展4次联合教研活动，共建共享优质课程资源库，推动集团内学校同步备课。
三、保障措施
（一）经费保障。市财政每年安排集团化办学专项奖补经费，按集团考核结果分配，专款专用。
（二）考核评价。市教育局每三年对教育集团开展一次综合评估，评估结果作为奖补经费分配的依据。
四、本方案自2023年9月1日起施行，有效期五年。
株洲市教育局
2023年8月15日
"""

# A second city's short draft, for DOCX, text encodings and replacement tests.
XIANGTAN = """湘潭市教育局关于深化集团化办学改革的指导意见
（征求意见稿）
一、基本原则
坚持公益普惠，坚持因地制宜，坚持质量为先，推动集团内学校共同发展。
二、主要措施
（一）规范集团组建。新组建的教育集团须经区县教育行政部门审批，并签订合作办学协议。
（二）明确退出机制。成员校办学质量达到标准后，可以申请退出教育集团，经审批后独立办学。
湘潭市教育局
2024年3月1日
"""


def make_pdf(text: str, width: int = 22, lines_per_page: int = 12, header: str | None = "集团化办学政策文件汇编",
             page_numbers: str | None = "第 {n} 页 共 {total} 页", **encrypt) -> bytes:
    """A multi-page PDF: every paragraph wrapped at `width` characters, a running header, and a
    page-number footer, in the built-in CID font STSong-Light."""
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    lines = [para[i:i + width] for para in text.strip().split("\n") for i in range(0, len(para), width)]
    pages = [lines[i:i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    buf = io.BytesIO()
    options = {}
    if encrypt:
        from reportlab.lib import pdfencrypt

        options["encrypt"] = pdfencrypt.StandardEncryption(**encrypt)
    c = canvas.Canvas(buf, pagesize=A5, **options)
    for n, page in enumerate(pages, start=1):
        if header:
            c.setFont("STSong-Light", 8)
            c.drawString(40, 570, header)
        c.setFont("STSong-Light", 12)
        y = 540
        for line in page:
            c.drawString(40, y, line)
            y -= 20
        if page_numbers:
            c.setFont("STSong-Light", 8)
            c.drawCentredString(210, 25, page_numbers.format(n=n, total=len(pages)))
        c.showPage()
    c.save()
    return buf.getvalue()


def make_scanned_pdf(pages: int = 2) -> bytes:
    """Pages that are only a picture of text: no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (300, 400), 255)
    draw = ImageDraw.Draw(image)
    for y in range(20, 380, 24):
        draw.rectangle((20, y, 280, y + 10), fill=30)  # lines of "print"
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A5)
    for _ in range(pages):
        c.drawImage(ImageReader(image), 30, 60, width=360, height=480)
        c.showPage()
    c.save()
    return buf.getvalue()


def make_docx(text: str, table: list[list[str]] | None = None, numbered: list[str] = ()) -> bytes:
    """One paragraph per line, plus an optional table and Word auto-numbered paragraphs."""
    import docx

    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "页眉：湘潭市教育局"  # headers are not body text
    for line in text.strip().split("\n"):
        document.add_paragraph(line)
    for item in numbered:
        document.add_paragraph(item, style="List Number")
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- hand-built PDFs

def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF from object bodies (object 1 is the catalog), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes, compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        return f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode() + data + b"\nendstream"
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def garbled_pdf(first_code_point: int) -> bytes:
    """A font whose ToUnicode map sends every character to the wrong place, as PDFs with a
    font lacking a proper Unicode map come out: private-use, Latin-1 mojibake or rare CJK."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Garbled def "
            b"/CMapType 2 def 1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange "
            + f"<21> <7E> <{first_code_point:04X}>".encode() + b" endbfrange endcmap "
            b"CMapName currentdict /CMap defineresource pop end end")
    lines = [b"(Qmxwj`tRsTvVqXyZ\\(aBcD) Tj", b"(eFgHiJkLmNoPqRsTuVw) Tj", b"(XyZaBcDeFgHiJkLmN) Tj"] * 4
    content = b"BT /F1 12 Tf 14 TL 72 700 Td " + b" T* ".join(lines) + b" ET"
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        _stream(content),
        _stream(cmap),
    ])


def slow_pdf(megabytes: int, pages: int) -> bytes:
    """A few kilobytes that take minutes to parse: many pages share one content stream holding
    millions of text operators (each page is parsed anew)."""
    ops = b"BT /F1 12 Tf 72 700 Td " + b"(AAAA) Tj " * (megabytes * 1024 * 1024 // 10) + b"ET"
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages)).encode()
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents 4 0 R >>")
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(ops, compress=True),
    ] + [page] * pages)


def cyclic_pdf() -> bytes:
    """A page tree whose node lists itself among its kids."""
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Parent 2 0 R /Count 1 >>",
    ])


def make_typeset_pdf(text: str) -> bytes:
    """A PDF typeset the way office tools do it: centred title, justified paragraphs with a
    first-line indent wrapped anywhere between CJK characters, and a "— N —" page footer."""
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=12, leading=20, wordWrap="CJK",
                          firstLineIndent=24, alignment=TA_JUSTIFY)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER, firstLineIndent=0)

    def footer(canvas, document):
        canvas.setFont("STSong-Light", 9)
        canvas.drawCentredString(297, 30, f"— {document.page} —")

    buf = io.BytesIO()
    paragraphs = [p for p in text.split("\n") if p.strip()]
    story = [Paragraph(p, title if i == 0 else body) for i, p in enumerate(paragraphs)]
    SimpleDocTemplate(buf, pagesize=A4).build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
