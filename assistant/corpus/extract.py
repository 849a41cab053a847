"""File bytes → plain policy text, or a clear reason why not.

Signatures are checked against the extension; TXT/MD are decoded (UTF-8, UTF-8-BOM, UTF-16,
GBK/GB18030); PDF and DOCX are parsed in a child process bounded in wall time and address space
(`python -m assistant.corpus.extract`), since a hostile file can make a parser loop or allocate without
end. PDF text loses running headers, footers and page numbers and is re-flowed into paragraphs.
Text that came out garbled (font without a Unicode map, mojibake) is refused, not indexed."""
from __future__ import annotations

import codecs
import io
import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.chunking.clauses import paragraphs
from assistant.errors import IngestError
from assistant.domain.segment import cn_ordinal, common_chars

FORMATS = {".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".md": "md", ".markdown": "md"}
_LABEL = {"pdf": "PDF", "docx": "DOCX", "txt": "文本", "md": "Markdown"}
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

    @classmethod
    def of(cls, settings) -> "Limits":
        return cls(settings.max_ingest_mb * 1024 * 1024, settings.max_ingest_chars, settings.parse_timeout,
                   settings.parse_memory_mb)


@dataclass(frozen=True)
class Extracted:
    text: str  # one paragraph per line
    format: str  # pdf | docx | txt | md
    pages: int | None = None
    encoding: str | None = None
    warnings: tuple[str, ...] = ()


# ---------------------------------------------------------------- format and signature

def file_format(filename: str) -> str:
    suffix = Path(filename.replace("\\", "/").split("/")[-1]).suffix.lower()
    if suffix not in FORMATS:
        shown = suffix or "（无扩展名）"
        raise IngestError(f"不支持的文件类型 {shown}：请上传 PDF、DOCX、TXT 或 MD 文件")
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
    expected = {"pdf": ("pdf",), "docx": ("zip", "ole"), "txt": ("text",), "md": ("text",)}[fmt]
    if kind not in expected:
        raise IngestError(f"文件扩展名是 {_LABEL[fmt]}，但内容是{_LOOKS_LIKE[kind]}（文件签名不符），已拒绝")
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
    r"^(?:[-—–－_·•\s]*\d{1,4}[-—–－_·•\s]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
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
    (90th percentile of line widths) or ends in a comma, and the next line is not a heading."""
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
        if joins:
            out[-1] += line
        else:
            out.append(line)
        last = line
    return out


def pdf_text(pages: list[str]) -> tuple[str, tuple[str, ...]]:
    split = [[ln for ln in page.replace("\r\n", "\n").split("\n") if ln.strip()] for page in pages]
    empty = [str(i + 1) for i, lines in enumerate(split)
             if sum(len(ln.strip()) for ln in lines) < _MIN_TEXT_CHARS]
    cleaned = strip_headers_footers(split)
    text = "\n".join(reflow([ln for lines in cleaned for ln in lines]))
    warnings = ()
    if empty and len(empty) < len(pages):
        warnings = (f"第 {'、'.join(empty[:10])}{' 等' if len(empty) > 10 else ''} 页没有文字层"
                    "（可能是扫描页），这些页的内容未导入",)
    return text, warnings


# ---------------------------------------------------------------- the parsing subprocess

def _run_parser(fmt: str, data: bytes, limits: Limits) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "assistant.corpus.extract", fmt, str(limits.memory_mb), str(int(limits.timeout) + 1)]
    label = _LABEL[fmt]
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=limits.timeout, env=env,
                              cwd=_PACKAGE_ROOT)
    except subprocess.TimeoutExpired as exc:
        raise IngestError(f"{label} 解析超过 {limits.timeout:g} 秒仍未完成，已中止"
                          "（文件可能已损坏或被恶意构造）") from exc
    try:
        result = json.loads(proc.stdout.decode("utf-8")) if proc.stdout else None
    except ValueError:
        result = None
    if result is None:
        if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise IngestError(f"{label} 解析超出时间限制，已中止（文件可能已损坏或被恶意构造）")
        raise IngestError(f"{label} 解析进程异常退出（代码 {proc.returncode}），可能超出内存限制"
                          f"（{limits.memory_mb} MB）或文件已损坏")
    if result.get("ok"):
        return result
    code = result.get("code")
    if code == "encrypted":
        raise IngestError("PDF 已加密（需要密码），不支持导入加密文件；请提供未加密的版本")
    if code == "memory":
        raise IngestError(f"{label} 解析超出内存限制（{limits.memory_mb} MB），已中止（文件可能被恶意构造）")
    detail = result.get("detail")
    raise IngestError(f"{label} 文件已损坏或无法解析" + (f"（{detail}）" if detail else ""))


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

def extract(data: bytes, filename: str, limits: Limits) -> Extracted:
    fmt = file_format(filename)
    check_size(len(data), limits)
    _check_signature(data, fmt)
    pages = encoding = None
    warnings: tuple[str, ...] = ()
    if fmt == "pdf":
        result = _run_parser("pdf", data, limits)
        pages = len(result["pages"])
        text, warnings = pdf_text(result["pages"])
    elif fmt == "docx":
        _check_docx_zip(data)
        text = "\n".join(_run_parser("docx", data, limits)["paragraphs"])
    else:
        text, encoding = decode_text(data)
        text = text.lstrip("\ufeff")
    text = "\n".join(ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    text = text.replace("\x00", "").replace("\f", "\n").strip()
    visible = sum(1 for c in text if not c.isspace())
    if visible < _MIN_TEXT_CHARS:
        if fmt == "pdf":
            raise IngestError("PDF 中没有可提取的文字（可能是扫描件或图片），请先进行文字识别（OCR）后再导入")
        raise IngestError("文件中没有文字内容")
    reason = garble_reason(text)
    if reason:
        hint = "（字体缺少 Unicode 映射）" if fmt == "pdf" else ""
        raise IngestError(f"提取出的文字是乱码{hint}：{reason}。为避免把乱码写入索引，已拒绝；"
                          "请提供可复制文字的原版文件或 DOCX/TXT")
    if len(text) > limits.max_chars:
        raise IngestError(f"文字过长（{len(text)} 字），上限为 {limits.max_chars} 字")
    return Extracted(text, fmt, pages, encoding, warnings)


# ---------------------------------------------------------------- child process side

def _parse_pdf(data: bytes) -> dict:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # owner-password-only files open with an empty user password
        except Exception:
            opened = 0
        if not opened:
            return {"ok": False, "code": "encrypted"}
    return {"ok": True, "pages": [page.extract_text() or "" for page in reader.pages]}


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
    import resource

    fmt, memory_mb, cpu_seconds = argv[0], int(argv[1]), int(argv[2])
    logging.disable(logging.CRITICAL)  # parser warnings are not the user's business
    data = sys.stdin.buffer.read()
    parse = _parse_pdf if fmt == "pdf" else _parse_docx
    if fmt == "pdf":
        import pypdf  # noqa: F401  (imported before the limits, which bound the parse only)
    else:
        import docx  # noqa: F401
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        result = parse(data)
    except MemoryError:
        result = {"ok": False, "code": "memory"}
    except RecursionError:
        result = {"ok": False, "code": "corrupt", "detail": "结构嵌套过深"}
    except Exception as exc:  # any parser failure is a property of the file
        result = {"ok": False, "code": "corrupt", "detail": exc.__class__.__name__}
    sys.stdout.buffer.write(json.dumps(result, ensure_ascii=False).encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
