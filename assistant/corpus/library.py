"""The corpus as a library: list and read documents, preview a file, and add or remove documents atomically.

An ingested document is corpus/docs/<name>.txt (the extracted text the index is built from, so
`index build --rebuild` reproduces everything) and corpus/sources/<name>.<ext> (the file as uploaded),
listed in corpus/manifest.json with its metadata and the sha256 of the upload.

Writes go journal → files → manifest (the commit point) → `apply` (the caller's index update). The journal
names files that are garbage unless the manifest references them, so after a crash anywhere the next ingest
(or start) deletes what the manifest does not list. When `apply` fails, the previous manifest is put back.
The corpus knows nothing of the index: `apply` is passed in by the facade."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Mapping

from assistant.chunking.clauses import chunk_document
from assistant.corpus import lineage
from assistant.corpus.extract import Extracted, Limits, extract
from assistant.corpus.manifest import MANIFEST, DocEntry, list_documents, read_manifest
from assistant.corpus.plan import (DOCS_DIR, SOURCES_DIR, DocumentInfo, IngestReport, Plan, Preview, RemoveReport,
                                   describe, document_infos, lineage_entries, make_plan, new_entry, read_source,
                                   require)
from assistant.chunking.diff import VersionDiff, diff_texts
from assistant.domain.values import Chunk
from assistant.domain.versions import version_date
from assistant.errors import (AssistantError, DocumentNotFoundError, IndexLockedError, IngestError, StorageError,
                              VersionError)
from assistant.files import atomic_write, ensure_free, exclusive, fsync_dir

JOURNAL = ".ingest-journal.json"
PREVIOUS = ".manifest.previous.json"  # the manifest before the current write, hard-linked (no space needed)
LOCK = ".ingest.lock"
_LOCK_WAIT_SECONDS = 15
_EXTRACTED_KEPT = 8  # extractions remembered for the confirm step after a preview

# apply(documents after the change, progress) updates the index and returns its report
Apply = Callable[[list[DocEntry], object], object]


class Library:
    """The documents under `settings.corpus_dir`."""

    def __init__(self, settings):
        self.settings = settings
        self.dir = Path(settings.corpus_dir)
        self.limits = Limits.of(settings)
        self._extracted: OrderedDict[str, Extracted] = OrderedDict()
        self._extracted_lock = threading.Lock()

    # ------------------------------------------------------------ reading
    def entries(self) -> list[dict]:
        return list(read_manifest(self.dir).get("documents", []))

    def documents_to_index(self) -> list[DocEntry]:
        return list_documents(self.dir)

    def entry(self, doc_id: str) -> dict:
        for entry in self.entries():
            if entry.get("doc_id") == doc_id:
                return entry
        raise DocumentNotFoundError(f"找不到文档：{str(doc_id)[:80]}（可用 policy-assistant docs list 查看）")

    def documents(self, counts: dict[str, int] | None, on: str | None = None) -> list[DocumentInfo]:
        """Every document with its standing on day `on` (today by default)."""
        return document_infos(self.entries(), counts, on)

    def document(self, doc_id: str, counts: dict[str, int] | None, on: str | None = None) -> DocumentInfo:
        self.entry(doc_id)  # raises DocumentNotFoundError for unknown ids
        return next(d for d in self.documents(counts, on) if d.doc_id == doc_id)

    def text(self, doc_id: str) -> str:
        entry = self.entry(doc_id)
        return list_documents(self.dir, {"documents": [entry]}, whole=False)[0].read_text()

    def clauses(self, doc_id: str) -> list[Chunk]:
        return chunk_document(doc_id, self.text(doc_id), self.settings.max_chunk_tokens)

    # ------------------------------------------------------------ versions
    def versions(self, doc_id: str, on: str | None = None) -> list[DocumentInfo]:
        """The versions of the document's lineage, oldest first, with their standing on day `on`."""
        self.entry(doc_id)  # raises DocumentNotFoundError for unknown ids
        infos = {d.doc_id: d for d in self.documents(None, on)}
        return [infos[d] for d in lineage.chain(doc_id, {e["doc_id"]: e for e in self.entries()})]

    def diff(self, old_id: str, new_id: str | None = None, on: str | None = None) -> VersionDiff:
        """What changed, clause by clause, from document `old_id` to `new_id` (by default its next version)."""
        old = self.document(old_id, None, on)
        if new_id is None:
            if not old.superseded_by:
                raise VersionError(f"《{old.title}》（{old_id}）没有更新的版本；请同时给出要对比的新版本编号")
            new_id = old.superseded_by
        if new_id == old_id:
            raise VersionError("请给出两份不同的文档进行对比")
        new = self.document(new_id, None, on)
        return VersionDiff(_side(old), _side(new), diff_texts(self.text(old_id), self.text(new_id)))

    # ------------------------------------------------------------ extraction, once per file
    def _extract(self, data: bytes, name: str, progress=None) -> Extracted:
        """Parse a file in the bounded subprocess, or reuse the parse of the same bytes (the preview's): a
        hostile file costs its parse limit once, not on preview and again on confirm (and a scan is read by
        OCR once)."""
        key = hashlib.sha256(data).hexdigest() + "\0" + name.rsplit(".", 1)[-1].lower()
        with self._extracted_lock:
            if key in self._extracted:
                self._extracted.move_to_end(key)
                return self._extracted[key]
        extracted = extract(data, name, self.limits, progress)
        with self._extracted_lock:
            self._extracted[key] = extracted
            while len(self._extracted) > _EXTRACTED_KEPT:
                self._extracted.popitem(last=False)
        return extracted

    def _plan(self, data: bytes, name: str, extracted: Extracted, overrides, replace_id, entries,
              supersedes_id=None) -> Plan:
        return make_plan(data, name, extracted, overrides, replace_id, entries, self.settings.max_chunk_tokens,
                         supersedes_id)

    # ------------------------------------------------------------ preview
    def preview(self, source, filename: str | None = None, overrides: Mapping[str, str] | None = None,
                replace_id: str | None = None, progress=None, supersedes_id: str | None = None) -> Preview:
        data, name = read_source(source, filename, self.limits)
        extracted = self._extract(data, name, progress)
        return self._plan(data, name, extracted, overrides, replace_id, self.entries(), supersedes_id).preview

    # ------------------------------------------------------------ add
    def add(self, source, apply: Apply, filename: str | None = None, overrides: Mapping[str, str] | None = None,
            replace_id: str | None = None, progress=None, supersedes_id: str | None = None) -> IngestReport:
        started = time.perf_counter()
        data, name = read_source(source, filename, self.limits)
        extracted = self._extract(data, name, progress)  # slow and bounded: outside the lock
        with self._lock():
            self._recover_locked()
            manifest = read_manifest(self.dir)
            entries = list(manifest.get("documents", []))
            plan = self._plan(data, name, extracted, overrides, replace_id, entries, supersedes_id)
            p = plan.preview
            if p.action == "unchanged":
                build = apply(list_documents(self.dir, manifest), progress)
                return IngestReport(p.doc_id, "unchanged", p.metadata.title, p.metadata.city, p.metadata.status,
                                    len(plan.chunks), build.embedded, build.added, build.removed,
                                    time.perf_counter() - started, p.warnings, p.ocr, p.supersedes,
                                    p.superseded_by, p.metadata.level, p.metadata.place_code)
            require(p.metadata, p.missing)
            if not plan.chunks:
                raise IngestError("文件中没有识别出任何条款（需要以“。”结尾的完整句子），未导入")
            entry, contents = new_entry(plan, name, extracted.text, data, entries)
            new_entries = lineage_entries(plan, entry, entries)
            overwritten = [f for f in own_files(plan.target, self.dir) if f not in contents] if contents else []
            build = self._commit(manifest, {**manifest, "documents": new_entries}, contents,
                                 list(contents) + overwritten, apply, progress)
            action = {"add": "added", "version": "versioned", "replace": "replaced", "update": "updated"}[p.action]
            return IngestReport(p.doc_id, action, p.metadata.title, p.metadata.city, p.metadata.status,
                                len(plan.chunks), build.embedded, build.added, build.removed,
                                time.perf_counter() - started, p.warnings, p.ocr, p.supersedes, p.superseded_by,
                                p.metadata.level, p.metadata.place_code)

    # ------------------------------------------------------------ lineage of documents already in the corpus
    def link(self, doc_id: str, supersedes: str | None, apply: Apply, progress=None) -> DocumentInfo:
        """Make `doc_id` the next version of `supersedes` (None: cut it from the version before it), checked as
        `--supersedes` is: the document exists, keeps a single next version, and no chain loops."""
        with self._lock():
            self._recover_locked()
            manifest = read_manifest(self.dir)
            entries = list(manifest.get("documents", []))
            me = next((e for e in entries if e.get("doc_id") == doc_id), None)
            if me is None:
                raise DocumentNotFoundError(f"找不到文档：{str(doc_id)[:80]}（可用 policy-assistant docs list 查看）")
            if supersedes:
                lineage.explicit(supersedes, entries, doc_id)
            if supersedes == me.get("supersedes"):
                return document_infos(entries, None)[entries.index(me)]
            new_entries = lineage.relink(entries, doc_id, supersedes, me.get("superseded_by"))
            self._commit(manifest, {**manifest, "documents": new_entries}, {}, [], apply, progress)
            return self.document(doc_id, None)

    # ------------------------------------------------------------ remove
    def remove(self, doc_id: str, apply: Apply, progress=None) -> RemoveReport:
        started = time.perf_counter()
        with self._lock():
            self._recover_locked()
            manifest = read_manifest(self.dir)
            entries = list(manifest.get("documents", []))
            entry = next((e for e in entries if e.get("doc_id") == doc_id), None)
            if entry is None:
                raise DocumentNotFoundError(f"找不到文档：{str(doc_id)[:80]}（可用 policy-assistant docs list 查看）")
            if len(entries) == 1:
                raise IngestError("这是语料中唯一的文档，不能删除（请先导入其他文档）")
            remaining = lineage.unlinked(entries, doc_id)  # its previous and next versions now meet
            still_used = {e.get(k) for e in remaining for k in ("file", "source")}
            garbage = [f for f in own_files(entry, self.dir) if f not in still_used]
            build = self._commit(manifest, {**manifest, "documents": remaining}, {}, garbage, apply, progress)
            return RemoveReport(doc_id, entry["title"], build.removed, time.perf_counter() - started)

    # ------------------------------------------------------------ transaction
    def _commit(self, old_manifest: dict, new_manifest: dict, contents: dict[str, bytes],
                journal_files: list[str], apply: Apply, progress):
        """Write `contents`, switch the manifest, apply it to the index; on any failure put the old
        manifest back. Files in `journal_files` that the final manifest does not reference are deleted.

        The old manifest is kept as a hard link while the index is updated, so putting it back is a rename:
        it needs no free space, and a full disk cannot stop it."""
        new_bytes = _manifest_bytes(new_manifest)
        # a removal frees space: only what it writes must fit, without the reserve
        ensure_space(self.dir, sum(len(d) for d in contents.values()) + 2 * len(new_bytes) + 4096,
                     self.settings.min_free_mb if contents else 0)
        manifest, previous = self.dir / MANIFEST, self.dir / PREVIOUS
        kept = False
        try:
            atomic_write(self.dir / JOURNAL, json.dumps({"pid": os.getpid(), "files": journal_files}))
            for rel, data in contents.items():
                atomic_write(self.dir / rel, data)
            documents = list_documents(self.dir, new_manifest)  # the new state must load before it is committed
            _keep(manifest, previous)
            kept = True
            atomic_write(manifest, new_bytes)
        except BaseException as exc:
            if kept:
                self._restore(previous)
            self._finish_journal()
            if isinstance(exc, OSError):
                raise IngestError(f"无法写入语料目录（{describe(exc)}），未做任何更改") from exc
            raise
        try:
            return apply(documents, progress)
        except BaseException as exc:
            self._rollback(previous, exc, apply)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise IngestError(f"更新索引失败：{describe(exc)}。语料与索引已恢复到操作之前的状态。") from exc
        finally:
            previous.unlink(missing_ok=True)
            self._finish_journal()

    def _restore(self, previous: Path) -> None:
        """Put the manifest kept as `previous` back (a rename: no space needed)."""
        if previous.exists():
            os.replace(previous, self.dir / MANIFEST)
            fsync_dir(self.dir)

    def _rollback(self, previous: Path, exc: BaseException, apply: Apply) -> None:
        self._restore(previous)
        if isinstance(exc, IndexLockedError):
            return  # the update never started: the index was not touched
        with contextlib.suppress(Exception):
            # the index commits atomically, so a failed update left it as it was; this only re-checks
            apply(list_documents(self.dir), None)

    # ------------------------------------------------------------ crash recovery
    def _finish_journal(self) -> None:
        journal = self.dir / JOURNAL
        try:
            listed = json.loads(journal.read_text(encoding="utf-8")).get("files", [])
        except FileNotFoundError:
            return
        except (ValueError, OSError):
            listed = []
        try:
            entries = self.entries()
        except AssistantError:
            return  # an unreadable manifest is not ours to repair: keep the journal and the files
        used = {e.get(k) for e in entries for k in ("file", "source")}
        root = self.dir.resolve()
        for rel in listed:
            if rel in used or not isinstance(rel, str):
                continue
            path = (self.dir / rel).resolve()
            if path.parent.parent == root and path.parent.name in (DOCS_DIR, SOURCES_DIR):
                path.unlink(missing_ok=True)
        for folder in (DOCS_DIR, SOURCES_DIR):
            for tmp in (self.dir / folder).glob("*.tmp"):
                tmp.unlink(missing_ok=True)
        (self.dir / (MANIFEST + ".tmp")).unlink(missing_ok=True)
        (self.dir / PREVIOUS).unlink(missing_ok=True)  # a commit that got this far stands
        journal.unlink(missing_ok=True)

    def _recover_locked(self) -> None:
        if (self.dir / JOURNAL).exists():
            self._finish_journal()

    def needs_recovery(self) -> bool:
        return (self.dir / JOURNAL).exists()

    def recover(self) -> bool:
        """Clean up after an ingest that was killed; True when there was something to do.

        Never waits and never raises: a locked or read-only corpus is simply left alone."""
        if not self.needs_recovery():
            return False
        try:
            with self._lock(wait_seconds=0):
                self._finish_journal()
            return True
        except (AssistantError, OSError):
            return False

    @contextlib.contextmanager
    def _lock(self, wait_seconds: float = _LOCK_WAIT_SECONDS):
        """One ingest or removal at a time per corpus directory (threads and processes alike)."""
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(exclusive(self.dir / LOCK, wait_seconds,
                                              lambda: IngestError("另一个导入或删除操作正在进行，请稍后再试")))
            except OSError as exc:
                raise IngestError(f"无法写入语料目录 {self.dir}（{describe(exc)}）") from exc
            yield


def _keep(manifest: Path, previous: Path) -> None:
    """`previous` becomes the current manifest's second name (a copy where hard links are not supported)."""
    previous.unlink(missing_ok=True)
    try:
        os.link(manifest, previous)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        atomic_write(previous, manifest.read_bytes())


def ensure_space(directory: Path, needed: int, reserve_mb: float) -> None:
    try:
        ensure_free(directory, needed, reserve_mb, "语料目录")
    except StorageError as exc:
        raise IngestError(str(exc)) from exc


def _manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def own_files(entry: dict | None, corpus_dir: Path) -> list[str]:
    """The entry's text and source files that live in docs/ or sources/ (never anything else)."""
    if not entry:
        return []
    out = []
    root = corpus_dir.resolve()
    for key in ("file", "source"):
        rel = entry.get(key)
        if not isinstance(rel, str):
            continue
        path = (corpus_dir / rel).resolve()
        if path.parent.parent == root and path.parent.name in (DOCS_DIR, SOURCES_DIR) and path.is_file():
            out.append(rel)
    return out


def _side(info: DocumentInfo) -> dict:
    """One version as a diff names it."""
    d = info.to_dict()
    keep = ("doc_id", "title", "city", "doc_number", "status", "effective_date", "adopted_date", "date", "force",
            "force_label", "sha256")
    return {**{k: d.get(k) for k in keep}, "version": version_date(d) or ""}
