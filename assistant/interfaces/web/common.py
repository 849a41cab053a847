"""What every tab shares: user-facing failure messages and the files offered for download."""
from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from assistant.errors import AssistantError

log = logging.getLogger("assistant.app")
INTERNAL_ERROR = "处理时出现内部错误，请稍后重试；如果问题持续，请联系管理员查看服务日志。"


def failure(exc: Exception) -> str:
    """A user-facing message for an exception: the Chinese text of an AssistantError, never a traceback."""
    if isinstance(exc, AssistantError):
        return str(exc)
    log.exception("web request failed")
    return INTERNAL_ERROR


class Downloads:
    """Files the app offers for download, in one private temporary directory."""

    def __init__(self, keep_seconds: float = 3600):
        self.dir = Path(tempfile.mkdtemp(prefix="policy-assistant-web-"))
        self.keep_seconds = keep_seconds

    def _folder(self) -> Path:
        cutoff = time.time() - self.keep_seconds
        for old in self.dir.iterdir():  # files offered more than an hour ago
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        folder = self.dir / uuid.uuid4().hex[:12]
        folder.mkdir()
        return folder

    def write(self, name: str, data: str | bytes) -> str:
        path = self._folder() / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8-sig" if name.endswith(".csv") else "utf-8")
        else:
            path.write_bytes(data)
        return str(path)

    def path(self, name: str) -> Path:
        return self._folder() / name

    def copy(self, source: Path) -> str:
        """A copy of a file kept elsewhere (e.g. under the data directory), where Gradio may serve it from:
        it refuses paths outside the working and temporary directories."""
        target = self._folder() / Path(source).name
        shutil.copyfile(source, target)
        return str(target)


def bind(fn, *bound):
    """`fn` with its first arguments fixed, as a plain function Gradio can inspect: Gradio reads a handler's
    signature and type hints to pass gr.Progress and gr.SelectData, and to stream generators, which a
    functools.partial hides."""
    if inspect.isgeneratorfunction(fn):
        def handler(*args, **kwargs):
            yield from fn(*bound, *args, **kwargs)
    else:
        def handler(*args, **kwargs):
            return fn(*bound, *args, **kwargs)
    functools.update_wrapper(handler, fn)
    signature = inspect.signature(fn)
    handler.__signature__ = signature.replace(parameters=list(signature.parameters.values())[len(bound):])
    return handler


def owner_of(request, browser_id: str | None) -> str | None:
    """Whose conversations these are: the login when there is one, else this browser's random id (kept in its
    localStorage). None before the page has given the browser an id: nothing is saved then."""
    user = getattr(request, "username", None) if request is not None else None
    if user:
        return f"user:{user}"
    if isinstance(browser_id, str) and _BROWSER_ID.fullmatch(browser_id):
        return f"browser:{browser_id}"
    return None


def browser_identity(request, browser_id: str | None, secret: str) -> str:
    """This browser's id: the one it keeps, else one made for this page session. Made from the session, not at
    random, so that the page-load event and a question asked before it finished agree on the same id."""
    if isinstance(browser_id, str) and _BROWSER_ID.fullmatch(browser_id):
        return browser_id
    session = getattr(request, "session_hash", None) if request is not None else None
    if not session:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{secret}:{session}".encode()).hexdigest()[:32]


_BROWSER_ID = re.compile(r"[0-9a-f]{32}")


def file_label(text: str, limit: int = 30) -> str:
    """A piece of a download's file name: the topic or city, without characters file systems refuse."""
    cleaned = re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "-", text or "").strip("-.")
    return cleaned[:limit] or "未命名"


def discard_upload(path) -> None:
    """Remove an uploaded file once it has been used (imported, refused or read): uploads live in Gradio's
    upload folder, and only files inside it are ever removed here."""
    import os

    if not path:
        return
    try:
        folder = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()
        target = Path(path).resolve()
        if folder in target.parents:
            target.unlink(missing_ok=True)
            if target.parent != folder and not any(target.parent.iterdir()):
                target.parent.rmdir()  # Gradio puts each upload in a folder of its own
    except OSError:
        log.warning("could not remove the upload %s", path)
