"""What every command group shares: JSON output, progress lines, and the facade made on demand."""
from __future__ import annotations

import json
import sys


def print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


_STAGES = {"ocr": "正在识别扫描页（OCR）", "embed": "正在嵌入条款"}
_BAR = 20


def progress(done: int, total: int, stage: str = "embed") -> None:
    filled = _BAR * done // total if total else _BAR
    bar = "█" * filled + "░" * (_BAR - filled)
    print(f"\r{_STAGES.get(stage, stage)} {bar} {done}/{total}", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def say(message: str) -> None:
    """A line about the state of the corpus and index (恢复中…, read-only): on stderr, so --json stays clean."""
    print(message, file=sys.stderr, flush=True)


def assistant(**kwargs):
    # imported here so that `policy-assistant --help` stays instant
    from assistant.interfaces.facade import Assistant

    return Assistant(progress=progress, **kwargs)


def opened(**kwargs):
    """The assistant with its index opened before the command runs: recovery after an interrupted write and any
    build happen here, saying so (恢复中…), not silently inside the first question."""
    return assistant(**kwargs).open(progress=progress, notify=say)


class FileBar:
    """A progress bar over the files of a batch on stderr (tqdm; shown on a terminal only), with the current
    file's embedding as its postfix; lines written through it appear above the bar."""

    def __init__(self):
        from tqdm import tqdm  # noqa: PLC0415 — only a batch import needs it

        self._tqdm = tqdm
        self._bar = None

    def file(self, done: int, total: int, name: str) -> None:
        if self._bar is None:
            self._bar = self._tqdm(total=total, desc="导入文件", unit="个", file=sys.stderr, disable=None,
                                   dynamic_ncols=True)
        self._bar.set_postfix_str(name[-40:], refresh=False)
        self._bar.update(done - self._bar.n)

    def embedding(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(f"嵌入条款 {done}/{total}")

    def write(self, line: str, err: bool = False) -> None:
        self._tqdm.write(line, file=sys.stderr if err else sys.stdout)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
