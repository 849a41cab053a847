"""Kill a writer at the moment it is mid-write: its PENDING marker has appeared (tests of recovery after kill -9)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from assistant.index.segments import PENDING


def kill_mid_write(proc: subprocess.Popen, index_dir: Path, seconds: float, poll: float = 0.002) -> None:
    """SIGKILL `proc` once `index_dir` holds the PENDING marker; fail if it ends first."""
    deadline = time.monotonic() + seconds
    while not (index_dir / PENDING).exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(poll)
    assert proc.poll() is None, f"the ingest ended before it could be killed: {proc.stderr.read()[-500:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert (index_dir / PENDING).exists()
