"""API tokens for programs: created and revoked from the CLI (`policy-assistant token ...`), stored hashed.

A token is 32 random bytes (`pa_` + URL-safe base64), shown once when it is made; the database under
Settings.data_dir keeps only its SHA-256, which is enough for a secret of that entropy (a slow password hash
protects guessable secrets; nobody guesses 256 random bits). The server reads the table on every request,
so a token created or revoked while it runs takes effect at once. Reading never creates the database: a
server whose data directory does not exist (or is read-only) simply has no tokens."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError

PREFIX = "pa_"
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_SCHEMA = """CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    write INTEGER NOT NULL,
    created_at TEXT NOT NULL
)"""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    write: bool
    created_at: str

    def to_dict(self) -> dict:
        return {"name": self.name, "write": self.write, "created_at": self.created_at}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    FILE = "api_tokens.sqlite3"

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / self.FILE

    def _read(self) -> sqlite3.Connection | None:
        if not self.path.exists():
            return None
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)

    def _write(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=5)
        conn.execute(_SCHEMA)
        self.path.chmod(0o600)  # hashes only, but nobody else needs to read them
        return conn

    def create(self, name: str, write: bool = False) -> str:
        """A new token for `name`; returns the secret, which is not stored and cannot be shown again."""
        if not _NAME.match(name or ""):
            raise ConfigError("令牌名称只能包含字母、数字、下划线、点、@ 和连字符，长度 1–64。")
        token = PREFIX + secrets.token_urlsafe(32)
        with closing(self._write()) as conn, conn:
            if conn.execute("SELECT 1 FROM tokens WHERE name = ?", (name,)).fetchone():
                raise ConfigError(f"已有名为 {name} 的令牌；如需更换，请先 token revoke {name}。")
            conn.execute("INSERT INTO tokens VALUES (?, ?, ?, ?)",
                         (name, digest(token), int(write), time.strftime("%Y-%m-%d %H:%M:%S")))
        return token

    def revoke(self, name: str) -> None:
        if not self.path.exists():
            raise ConfigError(f"没有名为 {name} 的令牌。")
        with closing(self._write()) as conn, conn:
            if conn.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount == 0:
                raise ConfigError(f"没有名为 {name} 的令牌。")

    def list(self) -> list[TokenInfo]:
        conn = self._read()
        if conn is None:
            return []
        with closing(conn):
            rows = conn.execute("SELECT name, write, created_at FROM tokens ORDER BY name").fetchall()
        return [TokenInfo(name, bool(write), created) for name, write, created in rows]

    def any(self) -> bool:
        conn = self._read()
        if conn is None:
            return False
        with closing(conn):
            return conn.execute("SELECT 1 FROM tokens LIMIT 1").fetchone() is not None

    def verify(self, token: str) -> TokenInfo | None:
        """The token's entry, or None for an unknown or revoked token."""
        if not token.startswith(PREFIX):
            return None
        conn = self._read()
        if conn is None:
            return None
        wanted = digest(token)
        with closing(conn):
            row = conn.execute("SELECT name, write, created_at, digest FROM tokens WHERE digest = ?",
                               (wanted,)).fetchone()
        if row is None or not hmac.compare_digest(row[3], wanted):
            return None
        return TokenInfo(row[0], bool(row[1]), row[2])
