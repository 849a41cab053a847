"""Scanned pages → lines of text with their confidence, offline on the CPU.

RapidOCR's PP-OCRv4 Chinese detection and recognition models ship inside its wheel, so nothing is
downloaded. This module runs only in the bounded parsing process (`python -m assistant.corpus.extract`),
never in the app's: a hostile image can be as expensive as a hostile PDF.

Per page: red ink is bleached (the 红头 title, its rule and the seal would otherwise come out as 一一一 or
as garbage over the signature), lines are detected on a reduced copy (detection cost grows with the area;
recognition reads crops of the full image), a page lying on its side or upside down is turned upright, and
the recognised pieces are put back into visual lines. The rest (headers, footers, page numbers, re-joining
lines into paragraphs) is the text-PDF path's, in extract.py, so scans and text PDFs come out alike."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np

RENDER_DPI = 200  # scanned PDF pages are rendered at this resolution (A4: 1654 × 2339)
_DETECT_SIDE = 1280  # longest side of the copy that text detection runs on
_TEXT_SCORE = 0.5  # recognised pieces scoring below this are dropped (RapidOCR's own default)
_ORIENTATION_SAMPLE = 12  # lines the 0°/180° classifier looks at
_PUNCTUATION = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65“”‘’…—·]")
_CJK_PUNCTUATION = "\u3000-\u303f\uff0c\uff1a\uff1b\uff08\uff09“”‘’"
_LOOSE_SPACE = re.compile(rf"(?<=[{_CJK_PUNCTUATION}])\s+|\s+(?=[{_CJK_PUNCTUATION}])")
_SENTENCE_END = "。；：！？;:!?"
_RULE_ONLY = re.compile(r"^[一—\-_－━─=＝~～·.。…\s]+$")  # a printed rule read as text
_ARTICLE = re.compile(r"^(第[一二三四五六七八九十百零〇两\d]+条)(?=[^\s\u3000])")
_RED_MIN, _RED_MARGIN = 120, 60  # red ink: R at least this, and this much above G and B
_RED_MIN_PIXELS = 200  # fewer red pixels than this are noise, not ink
_RED_PAPER = 170  # in the red channel, this and lighter is paper (printed red ink reads about 200–220)
_DOC_NUMBER_YEAR = re.compile(r"[〔［\[【(（]\s*(\d{4})\s*[〕］\]】)）](?=\s*\d{1,4}\s*号)")


class ImageTooLarge(Exception):
    def __init__(self, width: int, height: int, page: int | None = None):
        super().__init__(f"{width}×{height}")
        self.width, self.height, self.page = width, height, page


@dataclass(frozen=True)
class Piece:
    """One recognised text box: its bounds on the page, its text and the recogniser's score."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def middle(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class PageText:
    lines: tuple[str, ...]
    confidence: float  # recognition score averaged over every character read, kept or not; 0 without text
    characters: int
    rotation: int = 0  # degrees the page was turned clockwise to read it

    def to_dict(self) -> dict:
        return {"lines": list(self.lines), "confidence": round(self.confidence, 4), "characters": self.characters,
                "rotation": self.rotation}


# ---------------------------------------------------------------- images in

def check_pixels(width: int, height: int, max_pixels: int, page: int | None = None) -> None:
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise ImageTooLarge(width, height, page)


_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR or a JPEG's frame header, read by hand from a few bytes: cheap and
    safe enough to run before any process is started or pixel decoded. None when not found."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    i = 2
    while data.startswith(b"\xff\xd8") and i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker in _JPEG_FRAMES:
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            i += 2
        else:
            i += 2 + max(2, int.from_bytes(data[i + 2:i + 4], "big"))
    return None


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """An uploaded PNG/JPEG as a BGR array, upright by its EXIF orientation. The dimensions are read from
    the header and checked before any pixel is decoded (a few kilobytes can declare gigapixels)."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = None  # our limit, checked below, is the one that speaks to the user
    with Image.open(io.BytesIO(data)) as image:  # lazy: reads the header only
        check_pixels(image.width, image.height, max_pixels)
        image = ImageOps.exif_transpose(image).convert("RGB")
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def page_sizes(data: bytes, indices: list[int], max_pixels: int) -> None:
    """Refuse (ImageTooLarge) a page whose rendering would exceed `max_pixels`, before any is rendered."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        for index in indices:
            width, height = document[index].get_size()
            check_pixels(int(width * RENDER_DPI / 72), int(height * RENDER_DPI / 72), max_pixels, index + 1)
    finally:
        document.close()


def render_pdf_pages(data: bytes, indices: list[int]):
    """Yield (index, BGR array) for each page, rendered at RENDER_DPI one at a time (sizes checked first
    with `page_sizes`)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        for index in indices:
            page = document[index]
            bitmap = page.render(scale=RENDER_DPI / 72)
            yield index, _to_bgr(bitmap.to_numpy(), bitmap.mode)
            page.close()
    finally:
        document.close()


def _to_bgr(pixels: np.ndarray, mode: str) -> np.ndarray:
    if pixels.ndim == 2:
        return np.ascontiguousarray(np.repeat(pixels[:, :, None], 3, axis=2))
    if mode in ("RGB", "RGBA", "RGBX"):
        pixels = pixels[:, :, 2::-1] if pixels.shape[2] >= 3 else pixels
    return np.ascontiguousarray(pixels[:, :, :3])


def bleach_red(image: np.ndarray) -> np.ndarray:
    """Red ink turned to paper: the 红头 and its rule, and seals stamped over the signature. On a page with
    red ink the red channel alone is read: there red is as light as the paper, edges and all (masking the red
    pixels leaves their anti-aliased outlines, which still read as text), while black stays black. Red ink
    is not quite white in that channel, and faint type still reads: levels are stretched so it is."""
    b, g, r = (image[:, :, i].astype(np.int16) for i in range(3))
    red = (r >= _RED_MIN) & (r - g >= _RED_MARGIN) & (r - b >= _RED_MARGIN)
    if int(red.sum()) < _RED_MIN_PIXELS:
        return image
    light = np.clip(r.astype(np.float32) * (255.0 / _RED_PAPER), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(light[:, :, None], 3, axis=2))


# ---------------------------------------------------------------- the reader

class Reader:
    """RapidOCR's detector, orientation classifier and recogniser, called stage by stage (rapidocr-onnxruntime
    1.4.4): detection on a reduced copy and the page's orientation need control its one-call API lacks."""

    def __init__(self, threads: int):
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)

    def read(self, image: np.ndarray) -> PageText:
        image = bleach_red(image)
        boxes = self._detect(image)
        rotation = 0
        if boxes and _sideways(boxes):
            image, rotation = np.ascontiguousarray(np.rot90(image, k=-1)), 90
            boxes = self._detect(image)
        if boxes and self._upside_down(image, boxes):
            image, rotation = np.ascontiguousarray(np.rot90(image, k=2)), (rotation + 180) % 360
            boxes = self._detect(image)
        if not boxes:
            return PageText((), 0.0, 0, rotation)
        crops = self.engine.get_crop_img_list(image, boxes)
        results, _ = self.engine.text_rec(crops, True)
        pieces, scores = [], []
        for box, (text, score, info) in zip(boxes, results):
            scores.extend(info[4] if text else [])
            if text.strip() and score >= _TEXT_SCORE:
                xs, ys = box[:, 0], box[:, 1]
                pieces.append(Piece(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()),
                                    spaced(text, _columns(info)), float(score)))
        lines = assemble(pieces)
        characters = sum(len(line.replace(" ", "")) for line in lines)
        confidence = float(np.mean(scores)) if scores else 0.0
        return PageText(tuple(lines), confidence, characters, rotation)

    def _detect(self, image: np.ndarray) -> list[np.ndarray]:
        import cv2

        scale = min(1.0, _DETECT_SIDE / max(image.shape[:2]))
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
        found, _ = self.engine.text_det(small)
        if found is None or len(found) == 0:
            return []
        return [np.asarray(b, dtype=np.float32) / scale for b in self.engine.sorted_boxes(found)]

    def _upside_down(self, image: np.ndarray, boxes: list[np.ndarray]) -> bool:
        widest = sorted(boxes, key=lambda b: -float(np.linalg.norm(b[0] - b[1])))[:_ORIENTATION_SAMPLE]
        _, labels, _ = self.engine.text_cls(self.engine.get_crop_img_list(image, widest))
        flipped = sum(1 for label, score in labels if label == "180" and score >= 0.5)
        return flipped * 2 > len(labels)


def _sideways(boxes: list[np.ndarray]) -> bool:
    """Lines of text standing upright: the page lies on its side (policy text is set horizontally)."""
    tall = wide = 0.0
    for b in boxes:
        w, h = float(np.linalg.norm(b[0] - b[1])), float(np.linalg.norm(b[0] - b[3]))
        if h > 1.5 * w:
            tall += w * h
        elif w > 1.5 * h:
            wide += w * h
    return tall > wide


def _columns(info) -> list[int]:
    """The recogniser's output column of each character (CTC alignment), for spacing."""
    return [c for word in info[2] for c in word]


# ---------------------------------------------------------------- text out

def spaced(text: str, columns: list[int]) -> str:
    """Restore the spaces a recogniser drops: a step between characters much wider than the line's usual
    one is a space (the full-width space after 第X条 matters: it marks an article heading). Punctuation
    takes a full character's step but is drawn small (、，), so a step next to it is never a space."""
    text = _LOOSE_SPACE.sub("", text)  # the recogniser's own spaces beside punctuation are never real
    if len(columns) != len(text) or len(text) < 3:
        return text
    steps = np.diff(columns)
    usual = float(np.median(steps))
    out = [text[0]]
    for ch, step in zip(text[1:], steps):
        wide = step >= 1.7 * usual and step - usual >= 3
        if wide and not (_PUNCTUATION.match(out[-1]) or _PUNCTUATION.match(ch)):
            out.append(" ")
        out.append(ch)
    return "".join(out)


def assemble(pieces: list[Piece]) -> list[str]:
    """Pieces → visual lines, top to bottom: pieces whose middles lie within one another's height share a
    line and are joined left to right (with a space across a wide gap). Lines that are only a printed rule
    are dropped; a line opening a paragraph (indented, or after one that ends a sentence or stops short) with 第X条 gets the
    space that marks it as an article; the year of a
    document number gets its 〔〕 back (the recogniser often reads one of them as 】 or ］)."""
    rows: list[list[Piece]] = []
    for piece in sorted(pieces, key=lambda p: p.middle):
        row = rows[-1] if rows else None
        if row and abs(piece.middle - _middle(row)) < 0.5 * min(piece.height, _height(row)):
            row.append(piece)
        else:
            rows.append([piece])
    rows = [sorted(row, key=lambda p: p.x0) for row in rows]
    left = _left_edge(rows)
    right = max((row[-1].x1 for row in rows), default=0.0)
    lines: list[str] = []
    before: list[Piece] | None = None
    for row in rows:
        text = _join(row)
        if _RULE_ONLY.match(text):
            continue
        if _opens_paragraph(row, before, left, right):
            text = _ARTICLE.sub(r"\1 ", text)
        lines.append(_DOC_NUMBER_YEAR.sub(r"〔\1〕", text))
        before = row
    return lines


def _opens_paragraph(row: list[Piece], before: list[Piece] | None, left: float, right: float) -> bool:
    """Indented, or the line before ended a sentence or stopped short of the right margin."""
    indented = row[0].x0 - left >= _char_width(row)
    if before is None or indented:
        return indented  # a page's first line usually continues the previous page's paragraph
    last = before[-1]
    return last.text[-1:] in _SENTENCE_END or last.x1 < right - 1.5 * _char_width(before)


def _middle(row: list[Piece]) -> float:
    return sum(p.middle for p in row) / len(row)


def _height(row: list[Piece]) -> float:
    return sum(p.height for p in row) / len(row)


def _join(row: list[Piece]) -> str:
    out = row[0].text
    for before, piece in zip(row, row[1:]):
        out += (" " if piece.x0 - before.x1 > _height(row) else "") + piece.text
    return out


def _char_width(row: list[Piece]) -> float:
    chars = sum(len(p.text) for p in row) or 1
    return sum(p.x1 - p.x0 for p in row) / chars


def _left_edge(rows: list[list[Piece]]) -> float:
    """Where the body text starts: the leftmost start of the lines that fill most of the measure (titles
    are centred and short, a paragraph's first line is indented)."""
    if not rows:
        return 0.0
    widths = [row[-1].x1 - row[0].x0 for row in rows]
    full = [row[0].x0 for row, w in zip(rows, widths) if w >= 0.6 * max(widths)]
    return min(full)
