"""Durable file writes and an exclusive lock, shared by every writer of the corpus and the index."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (best effort: some filesystems refuse directory fsync)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never a part; on any error
    (a full disk, a read-only directory) the temporary file is removed and the old file is untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def exclusive(path: Path, wait_seconds: float, busy: Callable[[], Exception]) -> Iterator[None]:
    """Hold `path` locked (threads and processes alike); raise `busy()` if it stays taken for
    `wait_seconds`. The holder's pid is written into the file for whoever investigates a stuck lock."""
    handle = open(path, "a+")
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                time.sleep(0.2)
        try:
            with contextlib.suppress(OSError):  # the pid is a courtesy; a full disk must not block the lock
                handle.seek(0)
                handle.truncate()
                handle.write(str(os.getpid()))
                handle.flush()
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


# ---------------------------------------------------------------- what the disk allows
_STORAGE_ERRNOS = {errno.ENOSPC: "磁盘空间不足", errno.EDQUOT: "超出磁盘配额", errno.EROFS: "文件系统只读",
                   errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限"}
# how SQLite (the embedding cache, Chroma) words the same conditions
_STORAGE_MESSAGES = (("database or disk is full", "磁盘空间不足"), ("no space left", "磁盘空间不足"),
                     ("(code: 13)", "磁盘空间不足"), ("readonly database", "文件系统只读"),
                     ("read-only file system", "文件系统只读"), ("(code: 8)", "文件系统只读"),
                     ("unable to open database file", "没有写入权限"),
                     ("requested and", "磁盘空间不足"))  # numpy: "3072 requested and 2016 written"


def storage_problem(exc: BaseException) -> str | None:
    """"磁盘空间不足", "文件系统只读" or "没有写入权限" when `exc` (or what caused it) is one of these; else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
            return _STORAGE_ERRNOS[exc.errno]
        text = str(exc).lower()
        for needle, reason in _STORAGE_MESSAGES:
            if needle in text:
                return reason
        exc = exc.__cause__ or exc.__context__
    return None


def writable(path: Path) -> bool:
    """Whether this process may create and replace files in `path` (or in the nearest existing parent, which
    would hold it). False on a read-only mount even for root."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK | os.X_OK)


def free_bytes(path: Path) -> int:
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def ensure_free(path: Path, needed: int, reserve_mb: float, what: str) -> None:
    """Refuse a write before it starts when it would leave less than `reserve_mb` free: a full disk is found
    here, not halfway through the write. Raises StorageError."""
    from assistant.errors import StorageError

    free = free_bytes(path)
    wanted = needed + int(reserve_mb * 1024 * 1024)
    if free < wanted:
        raise StorageError(f"磁盘空间不足：{what}所在磁盘剩余 {_mb(free)}，这次写入至少需要 {_mb(wanted)}"
                           f"（含保留的 {reserve_mb:g} MB，见 ASSISTANT_MIN_FREE_MB），未做任何更改。")


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(n, 0) / 1024:.0f} KB"


# ---------------------------------------------------------------- exports (Markdown / JSON / Word)
WORD_FONT = "宋体"  # East Asian font of every Word export
NOTE_GREY = (0x59, 0x59, 0x59)


def export_path(path: str | Path, suffixes: tuple[str, ...], what: str, error: type[Exception]) -> Path:
    """The path an export is written to, checked: a known suffix and an existing folder, else `error` in Chinese."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        choices = "、".join(suffixes[:-1]) + f" 或 {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]
        raise error(f"{what}只能保存为 {choices}：{path.name}")
    if not path.parent.is_dir():
        raise error(f"输出目录不存在：{path.parent}")
    return path


def word_document():
    """A python-docx Document whose Normal style sets a Chinese font for East Asian text (Word otherwise falls
    back to a Latin font and renders Chinese inconsistently)."""
    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = WORD_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), WORD_FONT)
    return document


def word_note(document, text: str, italic: bool = False) -> None:
    """A small grey paragraph (sources, explanations) under the main text."""
    from docx.shared import Pt, RGBColor

    run = document.add_paragraph().add_run(text)
    run.italic = italic
    run.font.size = Pt(9)
    run.font.color.rgb = RGBColor(*NOTE_GREY)
