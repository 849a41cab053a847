"""Scans made at run time from real text, for OCR tests and the OCR benchmark: text typeset with reportlab
(STSong-Light), optionally under a red 红头 header with its rule, rasterised with pypdfium2 and then degraded
the way a scanner degrades paper (noise, blur, a slight skew), as PNG/JPEG bytes or an image-only PDF."""
from __future__ import annotations

import io

import numpy as np

_FONT = "STSong-Light"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(_FONT))


def typeset(text: str, page_size=None, font_size: float = 12, red_header: str | None = None,
            footer: bool = True) -> bytes:
    """A text PDF: a centred title, justified paragraphs with a first-line indent, a "— N —" footer, and
    (with `red_header`) the issuer's name in large red type above a red rule on the first page."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    _register_font()
    page_size = page_size or A4
    width, height = page_size
    body = ParagraphStyle("body", fontName=_FONT, fontSize=font_size, leading=font_size * 1.7, wordWrap="CJK",
                          firstLineIndent=font_size * 2, alignment=TA_JUSTIFY)
    title = ParagraphStyle("title", parent=body, fontSize=font_size * 1.5, leading=font_size * 2.2,
                           alignment=TA_CENTER, firstLineIndent=0)
    margin = min(width, height) / 8

    def first(canvas, document):
        if red_header:
            canvas.setFillColor(colors.HexColor("#d40000"))
            canvas.setStrokeColor(colors.HexColor("#d40000"))
            canvas.setFont(_FONT, font_size * 2.2)
            canvas.drawCentredString(width / 2, height - margin * 0.9, red_header)
            canvas.setLineWidth(2)
            canvas.line(margin * 0.8, height - margin * 1.25, width - margin * 0.8, height - margin * 1.25)
            canvas.setFillColor(colors.black)
        later(canvas, document)

    def later(canvas, document):
        if footer:
            canvas.setFont(_FONT, font_size * 0.8)
            canvas.drawCentredString(width / 2, margin / 2, f"— {document.page} —")

    buf = io.BytesIO()
    paragraphs = [p for p in text.split("\n") if p.strip()]
    story = [Spacer(1, margin * 0.6)] if red_header else []
    story += [Paragraph(p, title if i == 0 else body) for i, p in enumerate(paragraphs)]
    SimpleDocTemplate(buf, pagesize=page_size, leftMargin=margin, rightMargin=margin, topMargin=margin,
                      bottomMargin=margin).build(story, onFirstPage=first, onLaterPages=later)
    return buf.getvalue()


def rasterise(pdf: bytes, dpi: int, grey: bool = True) -> list:
    """Each page of `pdf` as a PIL image at `dpi`."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        images = [document[i].render(scale=dpi / 72).to_pil() for i in range(len(document))]
    finally:
        document.close()
    return [im.convert("L" if grey else "RGB") for im in images]


def degrade(image, noise: float = 10.0, blur: float = 0.7, skew: float = 0.6, seed: int = 0):
    """What a scanner does to a page: a slight rotation, a little blur, and grain."""
    from PIL import Image, ImageFilter

    white = 255 if image.mode == "L" else (255, 255, 255)
    if skew:
        image = image.rotate(skew, resample=Image.BICUBIC, fillcolor=white)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        pixels = np.asarray(image).astype(np.float32)
        pixels += np.random.default_rng(seed).normal(0.0, noise, pixels.shape)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), image.mode)
    return image


def image_bytes(image, fmt: str = "PNG", dpi: int | None = None) -> bytes:
    buf = io.BytesIO()
    options = {"dpi": (dpi, dpi)} if dpi else {}
    if fmt == "JPEG":
        options["quality"] = 90
    image.save(buf, fmt, **options)
    return buf.getvalue()


def image_pdf(images: list, dpi: int) -> bytes:
    """An image-only PDF (no text layer), one page per image, as a scanner writes one."""
    buf = io.BytesIO()
    first, *rest = [im.convert("RGB") if im.mode not in ("L", "RGB") else im for im in images]
    first.save(buf, "PDF", save_all=True, append_images=rest, resolution=float(dpi))
    return buf.getvalue()


def scanned(text: str, dpi: int = 150, page_size=None, font_size: float = 12, red_header: str | None = None,
            noise: float = 10.0, blur: float = 0.7, skew: float = 0.6, seed: int = 0) -> list:
    """`text` typeset, printed and scanned: one degraded PIL image per page."""
    pdf = typeset(text, page_size, font_size, red_header)
    return [degrade(im, noise, blur, skew, seed + i)
            for i, im in enumerate(rasterise(pdf, dpi, grey=red_header is None))]


# ---------------------------------------------------------------- hostile images

def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header declaring gigapixels, in a few hundred bytes: a decoder would allocate first."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) \
        + chunk(b"IEND", b"")


def jpeg_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small JPEG whose frame header is rewritten to declare `width` × `height`."""
    from PIL import Image

    data = bytearray(image_bytes(Image.new("L", (16, 16), 255), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 7] = height.to_bytes(2, "big")
    data[sof + 7:sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


def blank_pages_pdf(pages: int, size: tuple[int, int] = (595, 842)) -> bytes:
    """A PDF of `pages` pages with no text layer (as a scan's pages look to a text extractor), built by hand
    so that hundreds of pages cost nothing to make."""
    from tests.support.samples import build_pdf

    kids = " ".join(f"{3 + i} 0 R" for i in range(pages)).encode()
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >>" % size
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                      b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>"]
                     + [page] * pages)
