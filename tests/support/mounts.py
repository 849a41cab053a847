"""Real read-only and full filesystems for tests, without touching the machine's mounts: a command runs in a
private mount namespace (`unshare`), where a directory is bind-mounted read-only over itself or a small tmpfs
is mounted. As an ordinary user this needs unprivileged user namespaces (`unshare -rm`); as root (CI) plain
`unshare -m` works too. When neither works the tests fail: they are never skipped."""
from __future__ import annotations

import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def namespace_prefix() -> tuple[str, ...]:
    """The command prefix that gives a private mount namespace in which mounting is allowed."""
    tried = []
    for prefix in (("unshare", "-rm"), ("unshare", "-m")):
        probe = subprocess.run([*prefix, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>&1 || "
                                "mount -t tmpfs -o size=64k tmpfs /tmp"], capture_output=True, text=True)
        if probe.returncode == 0:
            return prefix
        tried.append(f"{' '.join(prefix)}: {(probe.stdout + probe.stderr).strip()[:200]}")
    raise RuntimeError("cannot create a mount namespace for the read-only/full-disk tests (" + "; ".join(tried) +
                       "). Run as root or enable unprivileged user namespaces.")


def read_only(path: Path) -> str:
    """Shell commands that make `path` read-only inside the namespace (a read-only bind mount over itself)."""
    q = shlex.quote(str(path))
    return f"mount --bind {q} {q} && mount -o remount,bind,ro {q}"


def tmpfs(path: Path, size: str) -> str:
    """Shell commands that mount an empty tmpfs of `size` (e.g. "8m") on `path`."""
    q = shlex.quote(str(path))
    return f"mkdir -p {q} && mount -t tmpfs -o size={size},mode=0755 tmpfs {q}"


def in_namespace(setup: str, argv: list[str], **kwargs) -> list[str]:
    """A command line that runs `setup` (shell) and then `argv` in a fresh mount namespace; its mounts vanish
    with it."""
    return [*namespace_prefix(), "sh", "-c", f"{setup} && exec \"$@\"", "sh", *argv]


def python_in_namespace(setup: str, *args: str) -> list[str]:
    return in_namespace(setup, [sys.executable, *args])
