"""An exclusive advisory file lock with a bounded wait, shared by every writer of the corpus and index."""
from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path


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
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
