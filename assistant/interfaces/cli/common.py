"""What every command group shares: JSON output, progress lines, and the facade made on demand."""
from __future__ import annotations

import json
import sys


def print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def progress(done: int, total: int) -> None:
    print(f"\r正在嵌入条款 {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


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
