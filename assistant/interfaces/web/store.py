"""The web app's own state, in one SQLite file under Settings.data_dir: each user's conversations and their
turns, and the feedback given on answers.

Every read or write of a conversation names its owner ("user:<login>" or "browser:<random id>"), and a
conversation of another owner is refused as if it did not exist. Feedback outlives the conversation it was
given in: it is evaluation data, not chat history."""
from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from assistant.domain.values import Answer, Citation
from assistant.errors import AssistantError

RATINGS = ("up", "down")
REASONS = ("引用有误", "答案不完整", "不该拒答", "不该回答")
MAX_COMMENT = 2000  # characters kept of a feedback comment
MAX_TITLE = 40

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE, seq INTEGER NOT NULL,
    message TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', answer TEXT, error TEXT, created REAL NOT NULL,
    PRIMARY KEY (conversation, seq));
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, conversation TEXT NOT NULL, seq INTEGER NOT NULL,
    rating TEXT NOT NULL, reasons TEXT NOT NULL DEFAULT '[]', comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL, answer TEXT NOT NULL, abstained INTEGER NOT NULL, mode TEXT NOT NULL,
    cities TEXT NOT NULL, citations TEXT NOT NULL, corpus_hash TEXT, created REAL NOT NULL, updated REAL NOT NULL,
    UNIQUE (owner, conversation, seq));
"""


class ConversationError(AssistantError):
    """A conversation that does not exist for this user (it may be another user's)."""


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    updated: float
    turns: int


@dataclass(frozen=True)
class StoredTurn:
    seq: int
    message: str  # what the user typed
    note: str  # how a follow-up was understood
    answer: Answer | None
    error: str | None


@dataclass(frozen=True)
class Feedback:
    id: int
    owner: str
    conversation: str
    seq: int
    rating: str
    reasons: tuple[str, ...]
    comment: str
    question: str
    answer: str
    abstained: bool
    mode: str
    cities: tuple[str, ...]
    citations: tuple[dict, ...]  # Citation.to_dict() of each cited clause
    corpus_hash: str | None
    created: float


def answer_from_dict(data: dict) -> Answer:
    """An Answer back from `Answer.to_dict()` (fields added later default; unknown keys are ignored)."""
    cite_fields = set(Citation.__dataclass_fields__)
    citations = tuple(Citation(**{k: v for k, v in c.items() if k in cite_fields}) for c in data.get("citations", ()))
    return Answer(question=data.get("question", ""), answer=data.get("answer", ""),
                  abstained=bool(data.get("abstained")), citations=citations,
                  notices=tuple(data.get("notices", ())), mode=data.get("mode", "extractive"),
                  cities=tuple(data.get("cities", ())), sentences=int(data.get("sentences", 0)),
                  unverified=int(data.get("unverified", 0)), conclusion=data.get("conclusion", ""))


def title_for(message: str) -> str:
    text = " ".join((message or "").split())
    return text if len(text) <= MAX_TITLE else text[:MAX_TITLE - 1] + "…"


def clip_comment(comment: str | None) -> tuple[str, str]:
    """The comment as stored, and a message when it had to be cut."""
    text = (comment or "").strip()
    if len(text) <= MAX_COMMENT:
        return text, ""
    return text[:MAX_COMMENT], f"意见过长（{len(text)} 字），已截取前 {MAX_COMMENT} 字保存。"


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)
        self.secret = self._secret(self.path.with_name("browser-secret"))

    @staticmethod
    def _secret(path: Path) -> str:
        """The key the page uses for what it keeps in the browser (its id, its open conversation): kept on
        disk, so a browser still finds its conversations after the server restarts."""
        if not path.exists():
            draft = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(24))
            try:
                os.link(draft, path)  # atomic, and never replaces the key another process made first
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text(encoding="ascii").strip()

    @contextmanager
    def _db(self):
        """One short connection per operation: handlers run on several threads, and SQLite serialises writers."""
        with closing(sqlite3.connect(self.path, timeout=15)) as db:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA busy_timeout = 15000")
            with db:  # a transaction: committed on success, rolled back on error
                yield db

    # ------------------------------------------------------------ conversations
    def conversations(self, owner: str) -> list[Conversation]:
        with self._db() as db:
            rows = db.execute("SELECT c.id, c.title, c.updated, COUNT(t.seq) FROM conversations c "
                              "LEFT JOIN turns t ON t.conversation = c.id WHERE c.owner = ? "
                              "GROUP BY c.id ORDER BY c.updated DESC, c.created DESC", (owner,)).fetchall()
        return [Conversation(*row) for row in rows]

    def create(self, owner: str, title: str) -> str:
        conversation = uuid.uuid4().hex
        now = time.time()
        with self._db() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                       (conversation, owner, title_for(title) or "新对话", now, now))
        return conversation

    def _owned(self, db, owner: str, conversation: str) -> None:
        row = db.execute("SELECT owner FROM conversations WHERE id = ?", (str(conversation),)).fetchone()
        if row is None or row[0] != owner:  # another user's conversation looks exactly like a missing one
            raise ConversationError("找不到该对话（可能已被删除，或不属于当前用户）。")

    def rename(self, owner: str, conversation: str, title: str) -> None:
        title = title_for(title)
        if not title:
            raise ConversationError("对话名称不能为空。")
        with self._db() as db:
            self._owned(db, owner, conversation)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation))

    def delete(self, owner: str, conversation: str) -> None:
        with self._db() as db:
            self._owned(db, owner, conversation)
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))

    def turns(self, owner: str, conversation: str) -> list[StoredTurn]:
        with self._db() as db:
            self._owned(db, owner, conversation)
            rows = db.execute("SELECT seq, message, note, answer, error FROM turns WHERE conversation = ? "
                              "ORDER BY seq", (conversation,)).fetchall()
        return [StoredTurn(seq, message, note, answer_from_dict(json.loads(answer)) if answer else None, error)
                for seq, message, note, answer, error in rows]

    def add_turn(self, owner: str, conversation: str, message: str, note: str = "", answer: Answer | None = None,
                 error: str | None = None) -> int:
        now = time.time()
        with self._db() as db:
            self._owned(db, owner, conversation)
            seq = db.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM turns WHERE conversation = ?",
                             (conversation,)).fetchone()[0]
            db.execute("INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (conversation, seq, message, note,
                        json.dumps(answer.to_dict(), ensure_ascii=False) if answer else None, error, now))
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))
        return seq

    # ------------------------------------------------------------ feedback
    def rate(self, owner: str, conversation: str, seq: int, rating: str | None, corpus_hash: str | None) -> bool:
        """👍 ("up"), 👎 ("down") or None (taken back) on one answer; False when the turn has no answer."""
        if rating is not None and rating not in RATINGS:
            raise ValueError(rating)
        now = time.time()
        with self._db() as db:
            self._owned(db, owner, conversation)
            if rating is None:
                db.execute("DELETE FROM feedback WHERE owner = ? AND conversation = ? AND seq = ?",
                           (owner, conversation, seq))
                return True
            row = db.execute("SELECT answer FROM turns WHERE conversation = ? AND seq = ?",
                             (conversation, seq)).fetchone()
            if row is None or row[0] is None:
                return False
            answer = answer_from_dict(json.loads(row[0]))
            citations = json.dumps([c.to_dict() for c in answer.citations], ensure_ascii=False)
            db.execute(
                "INSERT INTO feedback (owner, conversation, seq, rating, question, answer, abstained, mode, cities, "
                "citations, corpus_hash, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (owner, conversation, seq) DO UPDATE SET rating = excluded.rating, "
                "corpus_hash = excluded.corpus_hash, updated = excluded.updated",
                (owner, conversation, seq, rating, answer.question, answer.answer, int(answer.abstained), answer.mode,
                 json.dumps(list(answer.cities), ensure_ascii=False), citations, corpus_hash, now, now))
        return True

    def ratings(self, owner: str, conversation: str) -> dict[int, str]:
        """This owner's 👍/👎 in a conversation, by turn."""
        with self._db() as db:
            rows = db.execute("SELECT seq, rating FROM feedback WHERE owner = ? AND conversation = ?",
                              (owner, conversation)).fetchall()
        return dict(rows)

    def comment(self, owner: str, conversation: str, seq: int, reasons: list[str], comment: str) -> str:
        """Reasons and a comment for a rated answer; returns a message when the comment was cut."""
        text, message = clip_comment(comment)
        chosen = [r for r in REASONS if r in (reasons or ())]
        with self._db() as db:
            self._owned(db, owner, conversation)
            updated = db.execute("UPDATE feedback SET reasons = ?, comment = ?, updated = ? "
                                 "WHERE owner = ? AND conversation = ? AND seq = ?",
                                 (json.dumps(chosen, ensure_ascii=False), text, time.time(), owner, conversation,
                                  seq)).rowcount
        if not updated:
            raise ConversationError("请先点击“赞”或“踩”评价该回答，再补充意见。")
        return message

    def feedback(self, rating: str | None = None, reason: str | None = None, contains: str | None = None,
                 limit: int = 500) -> list[Feedback]:
        """Feedback from every user, newest first (the evaluator's view)."""
        where, args = [], []
        if rating:
            where.append("rating = ?")
            args.append(rating)
        if reason:
            where.append("EXISTS (SELECT 1 FROM json_each(feedback.reasons) WHERE value = ?)")
            args.append(reason)
        if contains:
            where.append("(instr(question, ?) > 0 OR instr(comment, ?) > 0)")
            args += [contains, contains]
        sql = ("SELECT id, owner, conversation, seq, rating, reasons, comment, question, answer, abstained, mode, "
               "cities, citations, corpus_hash, created FROM feedback"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY updated DESC, id DESC LIMIT ?")
        with self._db() as db:
            rows = db.execute(sql, (*args, limit)).fetchall()
        return [Feedback(id=r[0], owner=r[1], conversation=r[2], seq=r[3], rating=r[4],
                         reasons=tuple(json.loads(r[5])), comment=r[6], question=r[7], answer=r[8],
                         abstained=bool(r[9]), mode=r[10], cities=tuple(json.loads(r[11])),
                         citations=tuple(json.loads(r[12])), corpus_hash=r[13], created=r[14]) for r in rows]
