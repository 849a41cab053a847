"""File bytes → plain policy text, or a clear reason why not.

Signatures are checked against the extension; TXT/MD are decoded (UTF-8, UTF-8-BOM, UTF-16,
GBK/GB18030); PDF and DOCX are parsed in a child process bounded in wall time and address space
(`python -m assistant.corpus.extract`), since a hostile file can make a parser loop or allocate without
end. PDF pages without a text layer and PNG/JPEG images are read by OCR (ocr.py) in the same child, which
reports its progress page by page on its stdout. PDF and OCR text lose running headers, footers and page
numbers and are re-flowed into paragraphs. Text that came out garbled (font without a Unicode map,
mojibake) is refused, not indexed; so are OCR pages read with low confidence."""
from __future__ import annotations

import codecs
import contextlib
import io
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.chunking.clauses import paragraphs
from assistant.errors import IngestError
from assistant.domain.progress import OCR, report
from assistant.domain.segment import cn_ordinal, common_chars

FORMATS = {".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".md": "md", ".markdown": "md",
           ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
_LABEL = {"pdf": "PDF", "docx": "DOCX", "txt": "文本", "md": "Markdown", "png": "PNG 图片", "jpeg": "JPEG 图片"}
IMAGE_FORMATS = ("png", "jpeg")
from assistant.config import PROJECT_ROOT as _PACKAGE_ROOT
_MIN_TEXT_CHARS = 10  # fewer non-space characters than this is "no text"
_MAX_DOCX_UNZIPPED = 200 * 1024 * 1024
_PARAGRAPH_END = "。！？；!?;：:…"


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_chars: int
    timeout: float  # seconds of wall time for one parse
    memory_mb: int  # address-space limit of the parsing process
    ocr_max_pages: int = 50
    ocr_page_seconds: float = 60.0  # wall time per page read by OCR, on top of `timeout`
    ocr_memory_mb: int = 2560  # address-space limit while OCR runs
    ocr_min_confidence: float = 0.80
    max_image_pixels: int = 40_000_000
    threads: int = 2

    @classmethod
    def of(cls, settings) -> "Limits":
        return cls(settings.max_ingest_mb * 1024 * 1024, settings.max_ingest_chars, settings.parse_timeout,
                   settings.parse_memory_mb, settings.ocr_max_pages, settings.ocr_page_seconds,
                   settings.ocr_memory_mb, settings.ocr_min_confidence, settings.max_image_pixels,
                   settings.embed_threads)


@dataclass(frozen=True)
class OcrInfo:
    """How much of a document's text was read by OCR, and how surely."""

    pages: int  # pages whose OCR text was kept
    confidence: float  # recognition score of the kept pages, weighted by their characters
    low_confidence_pages: tuple[int, ...] = ()  # 1-based; reported and left out
    rotated_pages: tuple[int, ...] = ()  # 1-based; turned upright before reading

    def to_dict(self) -> dict:
        return {"confidence": round(self.confidence, 3), "pages": self.pages,
                "low_confidence_pages": list(self.low_confidence_pages), "rotated_pages": list(self.rotated_pages)}


@dataclass(frozen=True)
class Extracted:
    text: str  # one paragraph per line
    format: str  # pdf | docx | txt | md | png | jpeg
    pages: int | None = None
    encoding: str | None = None
    warnings: tuple[str, ...] = ()
    ocr: OcrInfo | None = None  # set when some of the text was read by OCR


# ---------------------------------------------------------------- format and signature

def file_format(filename: str) -> str:
    suffix = Path(filename.replace("\\", "/").split("/")[-1]).suffix.lower()
    if suffix not in FORMATS:
        shown = suffix or "（无扩展名）"
        raise IngestError(f"不支持的文件类型 {shown}：请上传 PDF、DOCX、TXT、MD 文件或 PNG、JPG 图片")
    return FORMATS[suffix]


def check_size(size: int, limits: Limits) -> None:
    if size == 0:
        raise IngestError("文件为空（0 字节）")
    if size > limits.max_bytes:
        raise IngestError(f"文件过大（{size / 1048576:.1f} MB），上限为 {limits.max_bytes / 1048576:.0f} MB")


def sniff(data: bytes) -> str:
    """What the bytes are, by signature: pdf, zip, ole, image, html, svg, xml or text."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")):
        return "image"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        return "html"
    if head.startswith(b"<svg") or (head.startswith((b"<?xml", b"<!doctype svg")) and b"<svg" in head):
        return "svg"
    if head.startswith(b"<?xml"):
        return "xml"
    return "text"


_LOOKS_LIKE = {"pdf": "一个 PDF 文件", "zip": "一个 ZIP 压缩包或 Office 文档", "ole": "一个旧版 Office 文件或加密文档",
               "image": "一张图片", "html": "一个 HTML 网页", "svg": "一张 SVG 图片", "xml": "一个 XML 文件",
               "text": "纯文本"}


def _check_signature(data: bytes, fmt: str) -> None:
    kind = sniff(data)
    expected = {"pdf": ("pdf",), "docx": ("zip", "ole"), "txt": ("text",), "md": ("text",), "png": ("image",),
                "jpeg": ("image",)}[fmt]
    if kind not in expected:
        raise IngestError(f"文件扩展名是 {_LABEL[fmt]}，但内容是{_LOOKS_LIKE[kind]}（文件签名不符），已拒绝")
    if fmt in IMAGE_FORMATS and not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise IngestError("只支持 PNG 和 JPEG 图片（这张图片是其他格式），请另存为 PNG 或 JPG 后再导入")
    if kind == "ole":
        raise IngestError("这是旧版 Word（.doc）或加密的 Office 文件，不支持；请另存为未加密的 .docx 后再导入")


# ---------------------------------------------------------------- garbled text

def garble_reason(text: str) -> str | None:
    """Why `text` looks garbled, or None. Calibrated on the bundled corpus and 300 law texts."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return None
    n = len(chars)
    bad = sum(1 for c in chars if c == "\ufffd" or 0xE000 <= ord(c) <= 0xF8FF or ord(c) >= 0xF0000
              or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)
    if bad >= 3 and bad / n > 0.02:
        return "含有大量无法显示的字符（替换符、私用区或控制字符）"
    latin = sum(1 for c in chars if 0xC0 <= ord(c) <= 0x24F)
    if latin >= 5 and latin / n > 0.05:
        return "含有大量编码错乱的字符（如 Ã、å、æ）"
    cjk = [c for c in chars if "\u4e00" <= c <= "\u9fff"]
    if len(cjk) >= 30:
        common = common_chars()
        rare = sum(1 for c in cjk if c not in common) / len(cjk)
        if rare > 0.15:
            return f"生僻字比例异常（{rare:.0%}），疑似乱码"
    return None


# ---------------------------------------------------------------- text files

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding). A BOM is trusted; otherwise UTF-8, then UTF-16 and GB18030 (a superset of
    GBK) where the result reads as text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise IngestError(f"文件带有 {encoding.upper()} 编码标记，但内容无法按该编码解码"
                                  f"（第 {exc.start} 字节）") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    utf16 = ["utf-16-le", "utf-16-be"] if len(data) % 2 == 0 else []
    candidates = utf16 + ["gb18030"] if b"\x00" in data[:4096] else ["gb18030"] + utf16
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if garble_reason(text) is None and _readable(text):
            return text, encoding
    raise IngestError("无法识别文本编码：支持 UTF-8（含 BOM）、GBK/GB18030 和 UTF-16，请另存为 UTF-8 后重试")


def _readable(text: str) -> bool:
    chars = [c for c in text if not c.isspace()]
    ok = sum(1 for c in chars if c.isprintable())
    return bool(chars) and ok / len(chars) > 0.98


# ---------------------------------------------------------------- PDF text cleanup

_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－_·•一\s]*\d{1,4}[-—–－_·•一\s]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|page\s*\d{1,4}(?:\s*of\s*\d{1,4})?)$", re.IGNORECASE)
_EDGE_LINES = 2  # lines at each end of a page that may be a running header or footer
_MAX_RUNNING_LINE = 40  # running headers are short; a longer repeated line is content


def _line_key(line: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line))


def strip_headers_footers(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers and short lines repeated at the top or bottom of most pages."""
    def edges(lines: list[str]) -> list[int]:
        k = min(_EDGE_LINES, len(lines))
        return sorted(set(range(k)) | set(range(len(lines) - k, len(lines))))

    counts: dict[str, int] = {}
    for lines in pages:
        for key in {_line_key(lines[i]) for i in edges(lines)}:
            counts[key] = counts.get(key, 0) + 1
    need = max(2, (len(pages) + 1) // 2)
    repeated = {key for key, n in counts.items()
                if n >= need and len(key) <= _MAX_RUNNING_LINE and key[-1] not in "。；"} if len(pages) >= 2 else set()
    out = []
    for lines in pages:
        drop = {i for i in edges(lines) if _PAGE_NUMBER.match(lines[i].strip()) or _line_key(lines[i]) in repeated}
        out.append([ln for i, ln in enumerate(lines) if i not in drop])
    return out


# lines that stand alone even when they fill the measure: a title, a document number, a date
_TITLE_LIKE = re.compile(r"^[^，。；,;]{4,80}(?:意见|方案|通知|办法|规定|决定|细则|解读|规划|计划|条例|法)"
                         r"(?:[（(][^）)]{1,8}[）)])?$")
_STANDALONE = re.compile(r"(?:〔\d{4}〕\d{1,4}号|^\d{4}年\d{1,2}月\d{1,2}日)$")


def _width(line: str) -> float:
    return sum(1.0 if ord(c) >= 0x2E80 else 0.5 for c in line)


def _is_heading(line: str) -> bool:
    found = paragraphs(line)
    return bool(found) and found[0].heading_kind not in (None, "lead")


def reflow(lines: list[str]) -> list[str]:
    """Re-join lines that a PDF broke at the page width into paragraphs.

    A line continues onto the next when it does not end a sentence and either fills the measure
    (90th percentile of line widths) or ends in a comma, and the next line is not a heading. A title set
    in large type over two lines is one line again (near the top, when only the two together read as a
    title: "…关于推进义务教育集团" + "化办学的实施方案")."""
    lines = [ln.strip() for ln in lines if ln.strip()]
    if not lines:
        return []
    widths = sorted(_width(ln) for ln in lines)
    measure = widths[int(0.9 * (len(widths) - 1))]
    out: list[str] = [lines[0]]
    last = lines[0]
    for line in lines[1:]:
        full = measure >= 8 and _width(last) >= 0.8 * measure
        joins = (last[-1] not in _PARAGRAPH_END and (full or last[-1] in "，、,")
                 and not _TITLE_LIKE.match(out[-1]) and not _STANDALONE.search(line) and not _is_heading(line))
        joins = joins or _wrapped_title(out, line)
        if joins:
            out[-1] += line
        else:
            out.append(line)
        last = line
    return out


def _wrapped_title(out: list[str], line: str) -> bool:
    head = out[-1]
    return (len(out) <= 3 and not _TITLE_LIKE.match(head) and bool(_TITLE_LIKE.match(head + line))
            and not _STANDALONE.search(head) and not _is_heading(head) and not _is_heading(line))


def pdf_text(pages: list[str], note_empty: bool = True) -> tuple[str, tuple[str, ...]]:
    """Pages of text (from a text layer or from OCR) → paragraphs, and a warning naming empty pages
    (unless `note_empty` is False: OCR explains its own empty pages)."""
    split = [[ln for ln in page.replace("\r\n", "\n").split("\n") if ln.strip()] for page in pages]
    empty = [str(i + 1) for i, lines in enumerate(split)
             if sum(len(ln.strip()) for ln in lines) < _MIN_TEXT_CHARS]
    cleaned = strip_headers_footers(split)
    text = "\n".join(reflow([ln for lines in cleaned for ln in lines]))
    warnings = ()
    if note_empty and empty and len(empty) < len(pages):
        warnings = (f"第 {'、'.join(empty[:10])}{' 等' if len(empty) > 10 else ''} 页没有文字层"
                    "（可能是扫描页），这些页的内容未导入",)
    return text, warnings


# ---------------------------------------------------------------- the parsing subprocess

class Expired(Exception):
    """The parsing child's wall-time deadline passed."""


def _run_parser(fmt: str, data: bytes, limits: Limits, progress=None) -> dict:
    """Parse in the bounded child: its stdout carries JSON lines, progress events while OCR reads pages and
    then the result. The wall-time deadline is `limits.timeout`, extended by `ocr_page_seconds` per page
    when the child announces how many pages it must read."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "assistant.corpus.extract", fmt, json.dumps(_child_limits(limits))]
    label = _LABEL[fmt]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env, cwd=_PACKAGE_ROOT)
    feeder = threading.Thread(target=_feed, args=(proc.stdin, data), daemon=True)
    feeder.start()
    ocr_pages = 0
    result = None
    try:
        for message in read_messages(proc, limits):
            if message.get("event") == "ocr":
                ocr_pages = int(message["pages"])
                report(progress, 0, ocr_pages, OCR)
            elif message.get("event") == "page":
                report(progress, int(message["done"]), ocr_pages, OCR)
            else:
                result = message
    except Expired as exc:
        if ocr_pages:
            raise IngestError(f"文字识别（OCR）{ocr_pages} 页超过 {_ocr_seconds(limits, ocr_pages):g} 秒仍未完成，"
                              "已中止（可以调大 ASSISTANT_OCR_PAGE_SECONDS 或分批导入）") from exc
        raise IngestError(f"{label} 解析超过 {limits.timeout:g} 秒仍未完成，已中止"
                          "（文件可能已损坏或被恶意构造）") from exc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        feeder.join(timeout=5)
    if result is None:
        if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise IngestError(f"{label} 解析超出时间限制，已中止（文件可能已损坏或被恶意构造）")
        memory = limits.ocr_memory_mb if ocr_pages or fmt in IMAGE_FORMATS else limits.memory_mb
        raise IngestError(f"{label} 解析进程异常退出（代码 {proc.returncode}），可能超出内存限制"
                          f"（{memory} MB）或文件已损坏")
    if result.get("ok"):
        return result
    raise IngestError(_failure(result, label, limits))


def _child_limits(limits: Limits) -> dict:
    return {"memory_mb": limits.memory_mb, "cpu_seconds": int(limits.timeout) + 1,
            "ocr_memory_mb": max(limits.memory_mb, limits.ocr_memory_mb), "ocr_max_pages": limits.ocr_max_pages,
            "ocr_cpu_seconds": int(limits.ocr_page_seconds * max(1, limits.threads)) + 1,
            "max_pixels": limits.max_image_pixels, "threads": limits.threads}


def _ocr_seconds(limits: Limits, pages: int) -> float:
    return limits.timeout + pages * limits.ocr_page_seconds


def _feed(stdin, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the child may exit (refuse, crash) before reading it all
        stdin.write(data)
    with contextlib.suppress(OSError):
        stdin.close()


def read_messages(proc: subprocess.Popen, limits: Limits):
    """The child's JSON lines, as they arrive; raises Expired at the deadline: `limits.timeout` from the
    start, reset to `timeout + pages × ocr_page_seconds` when the child announces the pages OCR will read."""
    deadline = time.monotonic() + limits.timeout
    fd = proc.stdout.fileno()
    pending = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Expired()
            if not selector.select(left):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                message = _decode(line)
                if message is None:
                    continue
                if message.get("event") == "ocr":  # the page count is known now: so is the time it may take
                    deadline = time.monotonic() + _ocr_seconds(limits, int(message["pages"]))
                yield message
    tail = _decode(pending)
    if tail is not None:
        yield tail


def _decode(line: bytes) -> dict | None:
    try:
        message = json.loads(line.decode("utf-8")) if line.strip() else None
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _failure(result: dict, label: str, limits: Limits) -> str:
    code, detail = result.get("code"), result.get("detail")
    if code == "encrypted":
        return "PDF 已加密（需要密码），不支持导入加密文件；请提供未加密的版本"
    if code == "memory":
        memory = limits.ocr_memory_mb if result.get("ocr") else limits.memory_mb
        return f"{label} 解析超出内存限制（{memory} MB），已中止（文件可能被恶意构造）"
    if code == "too_many_pages":
        return (f"扫描件有 {detail} 页需要文字识别（OCR），超过上限 {limits.ocr_max_pages} 页，未导入；"
                "请拆分后分批导入，或调大 ASSISTANT_OCR_MAX_PAGES")
    if code == "image_too_large":
        where = f"第 {result['page']} 页" if result.get("page") else "图片"
        return (f"{where}尺寸异常巨大（{detail} 像素，上限 {limits.max_image_pixels // 1_000_000} 百万像素），"
                "已在解码前拒绝（可能是恶意构造的图片）")
    if code == "image":
        return f"{label}无法解码（文件已损坏或格式不受支持）"
    return f"{label} 文件已损坏或无法解析" + (f"（{detail}）" if detail else "")


def _check_docx_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError("DOCX 文件已损坏（不是有效的 ZIP 结构）") from exc
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise IngestError("文件扩展名是 DOCX，但内容不是 Word 文档（缺少 word/document.xml）")
    if any(i.flag_bits & 0x1 for i in infos):
        raise IngestError("DOCX 文件已加密，不支持导入加密文件")
    if sum(i.file_size for i in infos) > _MAX_DOCX_UNZIPPED:
        raise IngestError("DOCX 解压后体积异常巨大（可能是压缩炸弹），已拒绝")


# ---------------------------------------------------------------- entry point

def extract(data: bytes, filename: str, limits: Limits, progress=None) -> Extracted:
    """`progress(done, total[, stage="ocr"])` hears of each page OCR reads."""
    fmt = file_format(filename)
    check_size(len(data), limits)
    _check_signature(data, fmt)
    pages = encoding = ocr = None
    warnings: tuple[str, ...] = ()
    if fmt in IMAGE_FORMATS:
        _check_image_size(data, limits)
    if fmt == "pdf" or fmt in IMAGE_FORMATS:
        result = _run_parser(fmt, data, limits, progress)
        pages = len(result["pages"])
        text, warnings, ocr = page_text(result, fmt, limits.ocr_min_confidence)
    elif fmt == "docx":
        _check_docx_zip(data)
        text = "\n".join(_run_parser("docx", data, limits)["paragraphs"])
    else:
        text, encoding = decode_text(data)
        text = text.lstrip("\ufeff")
    text = "\n".join(ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    text = text.replace("\x00", "").replace("\f", "\n").strip()
    if _visible(text) < _MIN_TEXT_CHARS:
        raise IngestError("文件中没有文字内容")
    reason = garble_reason(text)
    if reason:
        hint = "（文字识别结果异常）" if ocr else "（字体缺少 Unicode 映射）" if fmt == "pdf" else ""
        raise IngestError(f"提取出的文字是乱码{hint}：{reason}。为避免把乱码写入索引，已拒绝；"
                          "请提供可复制文字的原版文件或 DOCX/TXT")
    if len(text) > limits.max_chars:
        raise IngestError(f"文字过长（{len(text)} 字），上限为 {limits.max_chars} 字")
    return Extracted(text, fmt, pages, encoding, warnings, ocr)


def _check_image_size(data: bytes, limits: Limits) -> None:
    """An image bomb is refused from its header, before a process starts (the child checks again with Pillow)."""
    from assistant.corpus.ocr import image_size

    size = image_size(data)
    if size and size[0] * size[1] > limits.max_image_pixels:
        raise IngestError(_failure({"code": "image_too_large", "detail": f"{size[0]}×{size[1]}"}, "", limits))


def _visible(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def _pages(numbers) -> str:
    numbers = list(numbers)
    return "、".join(str(n) for n in numbers[:10]) + (" 等" if len(numbers) > 10 else "")


def page_text(result: dict, fmt: str, min_confidence: float) -> tuple[str, tuple[str, ...], OcrInfo | None]:
    """A PDF's or an image's pages → paragraphs: each page's text layer or, where it has none, what OCR read
    there, through the same header/footer removal and re-flow. OCR pages read with less than
    `min_confidence` are left out and reported; a file with nothing left is refused."""
    texts = list(result["pages"])
    read = {int(k): v for k, v in (result.get("ocr") or {}).items()}
    if not read:
        text, warnings = pdf_text(texts)
        if _visible(text) < _MIN_TEXT_CHARS:
            raise IngestError("PDF 中没有可提取的文字（可能是扫描件或图片），请先进行文字识别（OCR）后再导入")
        if result.get("ocr_skipped"):
            warnings += (f"有 {result['ocr_skipped']} 页没有文字层，超过文字识别（OCR）的页数上限，这些页未导入",)
        return text, warnings, None
    kept = {i: p for i, p in read.items() if p["characters"] and p["confidence"] >= min_confidence}
    low = {i: p for i, p in read.items() if p["characters"] and p["confidence"] < min_confidence}
    blank = sorted(i for i, p in read.items() if not p["characters"])
    for i, page in kept.items():
        texts[i] = "\n".join(page["lines"])
    for i in (*low, *blank):
        texts[i] = ""
    text, _ = pdf_text(texts, note_empty=False)
    if _visible(text) < _MIN_TEXT_CHARS:
        raise IngestError(_nothing_read(fmt, low, min_confidence))
    warnings = _ocr_warnings(read, kept, low, blank, fmt)
    if not kept:
        return text, warnings, None
    characters = sum(p["characters"] for p in kept.values())
    confidence = sum(p["confidence"] * p["characters"] for p in kept.values()) / characters
    rotated = tuple(i + 1 for i in sorted(kept) if kept[i].get("rotation"))
    return text, warnings, OcrInfo(len(kept), confidence, tuple(i + 1 for i in sorted(low)), rotated)


def _nothing_read(fmt: str, low: dict, min_confidence: float) -> str:
    what = "图片" if fmt in IMAGE_FORMATS else "扫描件"
    if low:
        best = max(p["confidence"] for p in low.values())
        return (f"{what}的文字识别（OCR）置信度过低（最高 {best:.2f}，需要 ≥ {min_confidence:.2f}），可能图片模糊、"
                "分辨率过低或内容不是文字；为避免把识别错误写入索引，已拒绝。请提供更清晰的扫描件（建议 200–300 dpi）")
    return f"{what}中没有识别出文字（OCR）：可能是空白页、照片或图形，未导入"


def _ocr_warnings(read: dict, kept: dict, low: dict, blank: list[int], fmt: str) -> tuple[str, ...]:
    warnings = []
    if kept:
        scope = "图片" if fmt in IMAGE_FORMATS else f"第 {_pages(i + 1 for i in sorted(kept))} 页"
        warnings.append(f"{scope}的文字由 OCR 识别，可能有个别错字，请以原件为准")
    if low:
        scores = "、".join(f"{low[i]['confidence']:.2f}" for i in sorted(low)[:10])
        warnings.append(f"第 {_pages(i + 1 for i in sorted(low))} 页文字识别置信度过低（{scores}），这些页未导入，请核对原件")
    if blank and len(blank) < len(read) + len(kept):
        warnings.append(f"第 {_pages(i + 1 for i in blank)} 页没有文字层，也没有识别出文字（可能是空白页或图片），未导入")
    rotated = [i + 1 for i in sorted(kept) if kept[i].get("rotation")]
    if rotated:
        warnings.append(f"第 {_pages(rotated)} 页是横置或倒置的，已自动转正后识别")
    return tuple(warnings)


# ---------------------------------------------------------------- child process side

class _Child:
    """The parsing process's own side: its resource limits, and the JSON lines it writes to the parent."""

    def __init__(self, options: dict):
        self.options = options
        self.widened = False  # True once OCR has its larger limits (so a memory error names those)

    def limit(self) -> None:
        """Bound the parse; the hard limits leave room for OCR, which `widen` grants only when it starts."""
        import resource

        o = self.options
        memory, ocr_memory = o["memory_mb"] << 20, o["ocr_memory_mb"] << 20
        resource.setrlimit(resource.RLIMIT_AS, (memory, max(memory, ocr_memory)))
        cpu_hard = o["cpu_seconds"] + o["ocr_max_pages"] * o["ocr_cpu_seconds"] + 1
        resource.setrlimit(resource.RLIMIT_CPU, (o["cpu_seconds"], cpu_hard))

    def widen(self, pages: int) -> None:
        import resource

        o = self.options
        _, memory_hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (memory_hard, memory_hard))
        _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
        cpu = min(cpu_hard, o["cpu_seconds"] + pages * o["ocr_cpu_seconds"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu_hard))
        self.widened = True

    @staticmethod
    def emit(message: dict) -> None:
        sys.stdout.buffer.write(json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n")
        sys.stdout.buffer.flush()

    def read(self, images, total: int) -> dict:
        """OCR of (page index, image) pairs; a progress line per page."""
        from assistant.corpus.ocr import Reader

        reader = Reader(self.options["threads"])
        out = {}
        for done, (index, image) in enumerate(images, start=1):
            out[str(index)] = reader.read(image).to_dict()
            self.emit({"event": "page", "done": done, "total": total})
        return out


def _parse_pdf(data: bytes, child: _Child) -> dict:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # owner-password-only files open with an empty user password
        except Exception:
            opened = 0
        if not opened:
            return {"ok": False, "code": "encrypted"}
    texts = [page.extract_text() or "" for page in reader.pages]
    scanned = [i for i, t in enumerate(texts) if _visible(t) < _MIN_TEXT_CHARS]
    if not scanned:
        return {"ok": True, "pages": texts}
    if len(scanned) > child.options["ocr_max_pages"]:
        if 2 * len(scanned) < len(texts):  # mostly text: keep it, and say which pages were not read
            return {"ok": True, "pages": texts, "ocr_skipped": len(scanned)}
        return {"ok": False, "code": "too_many_pages", "detail": len(scanned)}
    return _read_pdf_pages(data, texts, scanned, child)


def _read_pdf_pages(data: bytes, texts: list[str], scanned: list[int], child: _Child) -> dict:
    from assistant.corpus.ocr import ImageTooLarge, page_sizes, render_pdf_pages

    max_pixels = child.options["max_pixels"]
    try:
        page_sizes(data, scanned, max_pixels)  # every page before the first is read: refuse fast
    except ImageTooLarge as exc:
        return {"ok": False, "code": "image_too_large", "detail": f"{exc.width}×{exc.height}", "page": exc.page}
    child.emit({"event": "ocr", "pages": len(scanned)})
    child.widen(len(scanned))
    return {"ok": True, "pages": texts, "ocr": child.read(render_pdf_pages(data, scanned), len(scanned))}


def _parse_image(data: bytes, child: _Child) -> dict:
    from assistant.corpus.ocr import ImageTooLarge, decode_image

    child.widen(1)
    try:
        image = decode_image(data, child.options["max_pixels"])
    except ImageTooLarge as exc:
        return {"ok": False, "code": "image_too_large", "detail": f"{exc.width}×{exc.height}"}
    except (OSError, SyntaxError, ValueError):  # Pillow's ways of saying the file is not a readable image
        return {"ok": False, "code": "image"}
    child.emit({"event": "ocr", "pages": 1})
    return {"ok": True, "pages": [""], "ocr": child.read([(0, image)], 1)}


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "ideographDigital",
               "japaneseCounting", "taiwaneseCounting"):
        return cn_ordinal(n)
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt in ("upperLetter", "lowerLetter"):
        letter = chr(ord("A") + (n - 1) % 26)
        return letter if fmt == "upperLetter" else letter.lower()
    if fmt == "decimalFullWidth":
        return "".join(chr(ord(d) - ord("0") + 0xFF10) for d in str(n))
    return str(n)


class _Numbering:
    """Renders Word's automatic list numbers ("一、", "（一）", "1.") that python-docx leaves out:
    policy headings are often numbered that way, and the clause tree depends on them."""

    def __init__(self, document):
        from docx.oxml.ns import qn

        self._qn = qn
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}  # (numId, ilvl) → (fmt, text, start)
        self.counters: dict[str, dict[int, int]] = {}
        self.abstract_of: dict[str, str] = {}
        try:
            root = document.part.numbering_part.element
        except Exception:
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for node in root.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in node.findall(qn("w:lvl")):
                fmt = lvl.find(qn("w:numFmt"))
                text = lvl.find(qn("w:lvlText"))
                start = lvl.find(qn("w:start"))
                levels[int(lvl.get(qn("w:ilvl")))] = (
                    fmt.get(qn("w:val")) if fmt is not None else "decimal",
                    text.get(qn("w:val")) if text is not None else "",
                    int(start.get(qn("w:val"))) if start is not None else 1)
            abstract[node.get(qn("w:abstractNumId"))] = levels
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            if ref is None:
                continue
            abstract_id = ref.get(qn("w:val"))
            num_id = num.get(qn("w:numId"))
            self.abstract_of[num_id] = abstract_id
            for ilvl, spec in abstract.get(abstract_id, {}).items():
                self.levels[(num_id, ilvl)] = spec

    def _num_pr(self, paragraph):
        qn = self._qn
        p_pr = paragraph._p.pPr
        num_pr = p_pr.find(qn("w:numPr")) if p_pr is not None else None
        style = paragraph.style
        while num_pr is None and style is not None:
            s_pr = style.element.pPr
            num_pr = s_pr.find(qn("w:numPr")) if s_pr is not None else None
            style = style.base_style
        if num_pr is None:
            return None
        num_id = num_pr.find(qn("w:numId"))
        ilvl = num_pr.find(qn("w:ilvl"))
        if num_id is None:
            return None
        return num_id.get(qn("w:val")), int(ilvl.get(qn("w:val"))) if ilvl is not None else 0

    def label(self, paragraph) -> str:
        found = self._num_pr(paragraph)
        if not found or found[0] == "0" or found not in self.levels:
            return ""
        num_id, ilvl = found
        fmt, text, _ = self.levels[(num_id, ilvl)]
        if fmt in ("bullet", "none"):
            return ""
        counters = self.counters.setdefault(self.abstract_of.get(num_id, num_id), {})
        counters[ilvl] = counters.get(ilvl, self.levels[(num_id, ilvl)][2] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]

        def level_value(match: re.Match) -> str:
            level = int(match.group(1)) - 1
            spec = self.levels.get((num_id, level), ("decimal", "", 1))
            return _format_number(counters.get(level, spec[2]), spec[0])

        return re.sub(r"%(\d)", level_value, text)


def _parse_docx(data: bytes) -> dict:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    numbering = _Numbering(document)
    out: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = paragraph.text
            if text.strip():
                out.append(numbering.label(paragraph) + text.strip())
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # merged cells repeat
                        continue
                    seen.add(id(cell._tc))
                    cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
                if any(cells):
                    out.append("｜".join(cells))
    return {"ok": True, "paragraphs": out}


def _child_main(argv: list[str]) -> int:
    import logging

    fmt, child = argv[0], _Child(json.loads(argv[1]))
    logging.disable(logging.CRITICAL)  # parser warnings are not the user's business
    data = sys.stdin.buffer.read()
    if fmt == "pdf":
        import pypdf  # noqa: F401  (imported before the limits, which bound the parse only)
        parse = _parse_pdf
    elif fmt in IMAGE_FORMATS:
        import PIL.Image  # noqa: F401
        parse = _parse_image
    else:
        import docx  # noqa: F401
        parse = lambda data, child: _parse_docx(data)  # noqa: E731
    child.limit()
    try:
        result = parse(data, child)
    except MemoryError:
        result = {"ok": False, "code": "memory", "ocr": child.widened}
    except RecursionError:
        result = {"ok": False, "code": "corrupt", "detail": "结构嵌套过深"}
    except Exception as exc:  # any parser failure is a property of the file
        if "alloc" in str(exc).lower():  # onnxruntime's way of running out of memory
            result = {"ok": False, "code": "memory", "ocr": child.widened}
        else:
            result = {"ok": False, "code": "corrupt", "detail": exc.__class__.__name__}
    child.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
