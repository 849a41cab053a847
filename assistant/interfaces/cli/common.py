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
