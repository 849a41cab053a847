"""The state of the corpus and its index as users are told it: built or not, current or not, interrupted
(and so to be recovered at the next start), writable or read-only."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreStatus:
    index: str  # "ok" | "stale" (the corpus changed since the last build) | "missing" | "mismatch"
    writable: bool  # False: a read-only index directory, answered from as it is
    interrupted_ingest: bool = False  # an import or removal was killed (the corpus journal is there)
    interrupted_write: bool = False  # an index write was killed or failed halfway (the PENDING marker)
    chunks: int | None = None  # clauses in the committed index
    generation: int | None = None
    problem: str = ""  # why the index cannot be used (mismatch)

    @property
    def needs_recovery(self) -> bool:
        return self.interrupted_ingest or self.interrupted_write

    @property
    def ready(self) -> bool:
        return self.index == "ok" and not self.needs_recovery

    def recovery(self) -> str:
        """What the next start will do, as one line ("" when nothing)."""
        parts = []
        if self.interrupted_ingest:
            parts.append("上次导入或删除文档被中断，清理语料目录")
        if self.interrupted_write:
            parts.append("上次写入索引被中断，修复索引")
        if self.index == "missing":
            parts.append("索引不存在，构建索引")
        elif self.index == "stale" and not self.interrupted_write:
            parts.append("语料有改动，更新索引")
        return "；".join(parts)

    def summary(self) -> str:
        """One line for `docs list`, the CLI and the web app."""
        if self.index == "mismatch":
            return self.problem
        built = (f"索引 {self.chunks} 个条款（第 {self.generation} 代）" if self.chunks is not None
                 else "尚未建立索引")
        notes = []
        if not self.writable:
            notes.append("只读")
        if self.needs_recovery:
            notes.append("待恢复：" + self.recovery() + ("（目录只读，无法恢复）" if not self.writable else
                                                      "（下次启动或写入时自动完成）"))
        elif self.index == "stale":
            notes.append("语料有未建索引的改动")
        return built + (f"；{'；'.join(notes)}" if notes else "")
