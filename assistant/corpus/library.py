"""Adding and removing documents under corpus/, atomically per document, with index/ kept in step.

An ingested document is corpus/docs/<name>.txt (the extracted text the index is built from, so
`index build --rebuild` reproduces everything) and corpus/sources/<name>.<ext> (the file as
uploaded), listed in corpus/manifest.json with its metadata and the sha256 of the upload.

Writes go journal → files → manifest (the commit point) → index. The journal names files that
are garbage unless the manifest references them, so after a crash anywhere the next ingest (or
start) deletes what the manifest does not list; an index left mid-build is repaired by
IndexStore from the corpus. A failed build restores the previous manifest and index."""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import stat
import time
import unicodedata
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Mapping

from assistant.chunking.clauses import chunk_document
from assistant.corpus.manifest import MANIFEST, load_corpus, read_manifest
from assistant.errors import AssistantError, DocumentNotFoundError, IndexLockedError, IngestError
from assistant.files import exclusive
from assistant.corpus.extract import Extracted, Limits, check_size, extract, file_format
from assistant.corpus.metadata import DocMeta, clean_overrides, short_title, suggest
from assistant.domain.values import Chunk
from assistant.index.store import IndexStore

DOCS_DIR = "docs"
SOURCES_DIR = "sources"
JOURNAL = ".ingest-journal.json"
LOCK = ".ingest.lock"
_LOCK_WAIT_SECONDS = 15
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")
_MAX_NAME_CHARS = 120


# ---------------------------------------------------------------- values

@dataclass(frozen=True)
class Preview:
    """What ingesting a file would do, for confirmation; nothing has been written."""

    doc_id: str
    action: str  # add | replace | update (same file, new metadata) | unchanged (already in the corpus)
    filename: str  # the upload's name, made safe for display
    format: str
    sha256: str
    metadata: DocMeta  # what would be stored: detected values with the overrides applied
    detected: DocMeta  # what the text itself says
    missing: tuple[str, ...]  # required fields still unknown (title, city): ask the user
    clauses: tuple[str, ...]  # clause paths, in order (one per chunk)
    characters: int
    pages: int | None
    warnings: tuple[str, ...]
    text: str
    replaces: str | None = None  # doc_id of the document a replace supersedes

    def to_dict(self) -> dict:
        d = asdict(self)
        d["clause_count"] = len(self.clauses)
        return d


@dataclass(frozen=True)
class IngestReport:
    doc_id: str
    action: str  # added | replaced | updated | unchanged
    title: str
    city: str
    status: str
    clauses: int  # chunks of this document in the index
    embedded: int  # clauses that had to be embedded (the rest came from the cache)
    added: int  # chunks added to / removed from the index
    removed: int
    seconds: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RemoveReport:
    doc_id: str
    title: str
    removed: int  # chunks removed from the index
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    city: str
    status: str
    short_title: str | None = None
    issuer: str | None = None
    doc_number: str | None = None
    date: str | None = None
    file: str = ""
    source: str | None = None
    original_name: str | None = None
    sha256: str | None = None
    ingested_at: str | None = None
    interprets: str | None = None
    chunks: int | None = None  # in the built index; None when the index has not been built

    @property
    def ingested(self) -> bool:
        return self.sha256 is not None

    @classmethod
    def of(cls, entry: dict, chunks: int | None) -> "DocumentInfo":
        known = {k: entry.get(k) for k in ("short_title", "issuer", "doc_number", "date", "source",
                                           "original_name", "sha256", "ingested_at", "interprets")}
        return cls(entry["doc_id"], entry["title"], entry["city"], entry["status"], file=entry["file"],
                   chunks=chunks, **known)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ingested"] = self.ingested
        return d


@dataclass(frozen=True)
class _Plan:
    preview: Preview
    chunks: tuple[Chunk, ...]
    target: dict | None  # the manifest entry replaced or updated


# ---------------------------------------------------------------- names

def safe_name(filename: str) -> str:
    """The last path component without control characters, shortened: for display only."""
    name = str(filename).replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    name = re.sub(r"\s+", " ", name) or "upload"
    if len(name) > _MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:10] if dot else ""
        name = (stem if dot else name)[:_MAX_NAME_CHARS - len(ext) - 1] + ("." + ext if ext else "")
    return name


def make_doc_id(filename: str, sha256: str, taken: set[str]) -> str:
    """ASCII slug of the file name plus a content hash: never a path, never a collision."""
    stem = safe_name(filename).rsplit(".", 1)[0]
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_stem).strip("-")[:32].strip("-") or "doc"
    for size in (8, 12, 16, 64):
        doc_id = f"{slug}-{sha256[:size]}"
        if doc_id not in taken:
            return doc_id
    raise IngestError("无法生成唯一的文档编号")


def _file_stem(doc_id: str, sha256: str) -> str:
    if not _SAFE_ID.match(doc_id):
        doc_id = f"doc-{hashlib.sha256(doc_id.encode('utf-8')).hexdigest()[:8]}"
    return doc_id if doc_id.endswith(sha256[:8]) else f"{doc_id}.{sha256[:8]}"


def read_source(source, filename: str | None, limits: Limits) -> tuple[bytes, str]:
    """(bytes, file name) from a path or from bytes; the size is checked before anything is read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not filename:
            raise IngestError("上传内容缺少文件名（需要根据扩展名判断格式）")
        file_format(filename)
        data = bytes(source)
    else:
        path = Path(source)
        filename = filename or path.name
        file_format(filename)
        try:
            info = path.stat()
        except FileNotFoundError as exc:
            raise IngestError(f"找不到文件：{safe_name(str(path))}") from exc
        except OSError as exc:
            raise IngestError(f"无法读取文件 {safe_name(str(path))}：{_describe(exc)}") from exc
        if not stat.S_ISREG(info.st_mode):
            raise IngestError(f"{safe_name(str(path))} 不是普通文件")
        check_size(info.st_size, limits)
        try:
            with open(path, "rb") as fh:
                data = fh.read(limits.max_bytes + 1)
        except OSError as exc:
            raise IngestError(f"无法读取文件 {safe_name(str(path))}：{_describe(exc)}") from exc
    check_size(len(data), limits)
    return data, filename


def _describe(exc: BaseException) -> str:
    if isinstance(exc, AssistantError):
        return str(exc)
    if isinstance(exc, OSError):
        reasons = {errno.ENOSPC: "磁盘空间不足", errno.EROFS: "文件系统只读", errno.EACCES: "没有写入权限",
                   errno.EPERM: "没有权限", errno.EDQUOT: "超出磁盘配额"}
        return reasons.get(exc.errno, f"系统错误 {exc.errno}")
    return exc.__class__.__name__


# ---------------------------------------------------------------- atomic files

def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# ---------------------------------------------------------------- the library

class Library:
    """The documents under `settings.corpus_dir`: list, read, preview, add, remove.

    Every change rebuilds `store` incrementally (only new or changed clauses are embedded)."""

    def __init__(self, settings, store: IndexStore):
        self.settings = settings
        self.store = store
        self.dir = Path(settings.corpus_dir)
        self.limits = Limits.of(settings)

    # ------------------------------------------------------------ reading
    def _entries(self) -> list[dict]:
        return list(read_manifest(self.dir).get("documents", []))

    def entry(self, doc_id: str) -> dict:
        for entry in self._entries():
            if entry.get("doc_id") == doc_id:
                return entry
        raise DocumentNotFoundError(f"找不到文档：{str(doc_id)[:80]}（可用 policy-assistant docs list 查看）")

    def documents(self) -> list[DocumentInfo]:
        counts = self.store.chunk_counts()
        return [DocumentInfo.of(e, counts.get(e["doc_id"]) if counts else None) for e in self._entries()]

    def document(self, doc_id: str) -> DocumentInfo:
        counts = self.store.chunk_counts()
        return DocumentInfo.of(self.entry(doc_id), counts.get(doc_id) if counts else None)

    def text(self, doc_id: str) -> str:
        entry = self.entry(doc_id)
        docs = load_corpus(self.dir, {"documents": [entry]})
        return docs[0].text

    def clauses(self, doc_id: str) -> list[Chunk]:
        return chunk_document(doc_id, self.text(doc_id), self.settings.max_chunk_tokens)

    # ------------------------------------------------------------ preview
    def preview(self, source, filename: str | None = None, overrides: Mapping[str, str] | None = None,
                replace_id: str | None = None) -> Preview:
        data, name = read_source(source, filename, self.limits)
        extracted = extract(data, name, self.limits)
        return self._plan(data, name, extracted, overrides, replace_id, self._entries()).preview

    def _plan(self, data: bytes, name: str, extracted: Extracted, overrides, replace_id: str | None,
              entries: list[dict]) -> _Plan:
        given = clean_overrides(overrides)
        sha = hashlib.sha256(data).hexdigest()
        known_cities = tuple(dict.fromkeys(e["city"] for e in entries if e.get("city")))
        detected = suggest(extracted.text, known_cities)
        meta = detected.merged(given)
        by_id = {e["doc_id"]: e for e in entries}
        same = next((e for e in entries if e.get("sha256") == sha), None)
        target = None
        if same is not None:
            target = same
            stored = _meta_of(same)
            meta = stored.merged(given)
            action = "unchanged" if meta == stored else "update"
        elif replace_id:
            if replace_id not in by_id:
                raise DocumentNotFoundError(f"要替换的文档不存在：{str(replace_id)[:80]}")
            target = by_id[replace_id]
            action = "replace"
        else:
            target = _same_document(meta, entries)
            action = "replace" if target else "add"
        if action == "replace":
            meta = _replacing(_meta_of(target), detected, given)
        doc_id = target["doc_id"] if target else make_doc_id(name, sha, set(by_id))
        chunks = tuple(chunk_document(doc_id, extracted.text, self.settings.max_chunk_tokens))
        preview = Preview(
            doc_id=doc_id, action=action, filename=safe_name(name), format=extracted.format, sha256=sha,
            metadata=meta, detected=detected, missing=meta.missing(), clauses=tuple(c.clause for c in chunks),
            characters=len(extracted.text), pages=extracted.pages, warnings=extracted.warnings,
            text=extracted.text, replaces=target["doc_id"] if action == "replace" else None)
        return _Plan(preview, chunks, target)

    # ------------------------------------------------------------ add
    def add(self, source, filename: str | None = None, overrides: Mapping[str, str] | None = None,
            replace_id: str | None = None, progress=None) -> IngestReport:
        started = time.perf_counter()
        data, name = read_source(source, filename, self.limits)
        extracted = extract(data, name, self.limits)  # slow and bounded: outside the lock
        with self._lock():
            self._recover_locked()
            manifest = read_manifest(self.dir)
            entries = list(manifest.get("documents", []))
            plan = self._plan(data, name, extracted, overrides, replace_id, entries)
            p = plan.preview
            if p.action == "unchanged":
                build = self._sync_index()
                return IngestReport(p.doc_id, "unchanged", p.metadata.title, p.metadata.city, p.metadata.status,
                                    len(plan.chunks), build.embedded if build else 0, build.added if build else 0,
                                    build.removed if build else 0, time.perf_counter() - started, p.warnings)
            _require(p.metadata, p.missing)
            if not plan.chunks:
                raise IngestError("文件中没有识别出任何条款（需要以“。”结尾的完整句子），未导入")

            entry, contents = _new_entry(plan, name, extracted.text, data, entries)
            if plan.target is not None:
                new_entries = [entry if e["doc_id"] == plan.target["doc_id"] else e for e in entries]
            else:
                new_entries = entries + [entry]
            new_manifest = {**manifest, "documents": new_entries}
            superseded = [f for f in _own_files(plan.target, self.dir) if f not in contents] if contents else []
            build = self._commit(manifest, new_manifest, contents, list(contents) + superseded, progress)
            action = {"add": "added", "replace": "replaced", "update": "updated"}[p.action]
            return IngestReport(p.doc_id, action, p.metadata.title, p.metadata.city, p.metadata.status,
                                len(plan.chunks), build.embedded, build.added, build.removed,
                                time.perf_counter() - started, p.warnings)

    # ------------------------------------------------------------ remove
    def remove(self, doc_id: str, progress=None) -> RemoveReport:
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
            remaining = [e for e in entries if e is not entry]
            still_used = {e.get(k) for e in remaining for k in ("file", "source")}
            garbage = [f for f in _own_files(entry, self.dir) if f not in still_used]
            build = self._commit(manifest, {**manifest, "documents": remaining}, {}, garbage, progress)
            return RemoveReport(doc_id, entry["title"], build.removed, time.perf_counter() - started)

    # ------------------------------------------------------------ transaction
    def _commit(self, old_manifest: dict, new_manifest: dict, contents: dict[str, bytes],
                journal_files: list[str], progress):
        """Write `contents`, switch the manifest, build the index; on any failure put the old
        manifest back and re-sync the index to it. Files in `journal_files` that the final manifest
        does not reference are deleted."""
        old_bytes = (self.dir / MANIFEST).read_bytes()
        try:
            _atomic_write(self.dir / JOURNAL, json.dumps({"pid": os.getpid(), "files": journal_files}).encode())
            for rel, data in contents.items():
                _atomic_write(self.dir / rel, data)
            docs = load_corpus(self.dir, new_manifest)  # the new state must load before it is committed
            _atomic_write(self.dir / MANIFEST, _manifest_bytes(new_manifest))
        except BaseException as exc:
            self._finish_journal()
            if isinstance(exc, OSError):
                raise IngestError(f"无法写入语料目录（{_describe(exc)}），未做任何更改") from exc
            raise
        try:
            return self.store.build(docs, progress=progress)
        except BaseException as exc:
            self._rollback(old_bytes, exc)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise IngestError(f"更新索引失败（{_describe(exc)}），语料与索引已恢复到操作之前的状态") from exc
        finally:
            self._finish_journal()

    def _rollback(self, old_manifest: bytes, exc: BaseException) -> None:
        _atomic_write(self.dir / MANIFEST, old_manifest)
        if isinstance(exc, IndexLockedError):
            return  # the build never started: the index was not touched
        with contextlib.suppress(Exception):
            # everything is in the embedding cache; if this fails too, the BUILDING marker makes the
            # next start rebuild from the (restored) corpus
            self.store.build(load_corpus(self.dir))

    def _sync_index(self):
        docs = load_corpus(self.dir)
        return None if self.store.state(docs) == "ok" else self.store.build(docs)

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
            entries = self._entries()
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
        journal.unlink(missing_ok=True)

    def _recover_locked(self) -> None:
        if (self.dir / JOURNAL).exists():
            self._finish_journal()

    def recover(self) -> bool:
        """Clean up after an ingest that was killed; True when there was something to do.

        Never waits and never raises: a locked or read-only corpus is simply left alone."""
        if not (self.dir / JOURNAL).exists():
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
                raise IngestError(f"无法写入语料目录 {self.dir}（{_describe(exc)}）") from exc
            yield


# ---------------------------------------------------------------- helpers

_ENTRY_ORDER = ("doc_id", "file", "title", "short_title", "city", "issuer", "doc_number", "date", "status",
                "interprets", "source", "original_name", "format", "sha256", "ingested_at")


def _ordered(entry: dict) -> dict:
    first = {k: entry[k] for k in _ENTRY_ORDER if k in entry}
    return {**first, **{k: v for k, v in entry.items() if k not in first}}


def _new_entry(plan: _Plan, name: str, text: str, data: bytes, entries: list[dict]) -> tuple[dict, dict]:
    """The manifest entry after this ingest, and the files to write (relative path → bytes).

    A new document or version gets new files named after its content; a metadata update keeps them."""
    p = plan.preview
    entry = dict(plan.target or {})
    contents: dict[str, bytes] = {}
    if p.action in ("add", "replace"):
        stem = _file_stem(p.doc_id, p.sha256)
        text_file, source_file = f"{DOCS_DIR}/{stem}.txt", f"{SOURCES_DIR}/{stem}.{file_format(name)}"
        contents = {text_file: (text + "\n").encode("utf-8"), source_file: data}
        entry.update({"doc_id": p.doc_id, "file": text_file, "source": source_file})
    entry.update(p.metadata.to_dict())
    entry.update({"sha256": p.sha256, "original_name": p.filename, "format": p.format,
                  "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    if p.metadata.status == "interpretation" and not entry.get("interprets"):
        interprets = _interpreted(p.metadata, entries)
        if interprets:
            entry["interprets"] = interprets
    return _ordered(entry), contents


def _meta_of(entry: dict) -> DocMeta:
    return DocMeta(**{k: entry.get(k) for k in ("title", "short_title", "city", "issuer", "doc_number", "date")},
                   status=entry.get("status") or "official")


def _same_document(meta: DocMeta, entries: list[dict]) -> dict | None:
    """An entry this upload is a new version of: same city and same document number, or same title."""
    if not meta.city:
        return None
    for entry in entries:
        if entry.get("city") != meta.city:
            continue
        if meta.doc_number and entry.get("doc_number") == meta.doc_number:
            return entry
        if meta.title and entry.get("title") == meta.title:
            return entry
    return None


def _replacing(old: DocMeta, detected: DocMeta, given: dict) -> DocMeta:
    """A new version keeps the old metadata the new text does not state; the user's values win."""
    values = old.to_dict()
    values.update({k: v for k, v in detected.to_dict().items() if v and k != "short_title"})
    values.update(given)
    meta = DocMeta(**values)
    if "short_title" not in given and meta.title != old.title:
        meta = replace(meta, short_title=short_title(meta.title, meta.city, meta.issuer))
    return meta


def _interpreted(meta: DocMeta, entries: list[dict]) -> str | None:
    """The document an interpretation explains: 青岛市《关于…的意见》解读 → the 意见 of the same city."""
    inner = re.search(r"《([^》]+)》", meta.title or "")
    if not inner:
        return None
    for entry in entries:
        if entry.get("city") == meta.city and entry.get("title") == inner.group(1):
            return entry["doc_id"]
    return None


def _own_files(entry: dict | None, corpus_dir: Path) -> list[str]:
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


def _require(meta: DocMeta, missing: tuple[str, ...]) -> None:
    if "city" in missing:
        raise IngestError("无法从文件中识别所属城市或区县，请指定城市（命令行 --city，例如 --city 长沙市）")
    if "title" in missing:
        raise IngestError("无法从文件中识别标题，请指定标题（命令行 --title）")
    if meta.status not in ("official", "draft", "interpretation"):
        raise IngestError(f"状态无效：{meta.status}")
