"""Ingestion as a pure plan: what adding a file would do (new document, new version, metadata update, or
nothing), with the metadata read from the text and the user's corrections applied. Writes nothing; the
transaction in `library.py` carries a plan out."""
from __future__ import annotations

import errno
import hashlib
import re
import stat
import time
import unicodedata
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from assistant.chunking.clauses import chunk_document
from assistant.corpus import lineage
from assistant.corpus.extract import Extracted, Limits, check_size, file_format
from assistant.corpus.manifest import place_fields
from assistant.corpus.metadata import DocMeta, clean_overrides, short_title, suggest, with_place
from assistant.domain.markup import safe_name
from assistant.domain.values import STATUSES, Chunk
from assistant.domain.versions import VERSION_FIELDS, state_label, states, today
from assistant.errors import AssistantError, DocumentNotFoundError, IngestError
from assistant.files import storage_problem

DOCS_DIR = "docs"
SOURCES_DIR = "sources"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


@dataclass(frozen=True)
class Preview:
    """What ingesting a file would do, for confirmation; nothing has been written."""

    doc_id: str
    # add | version (a new version of a document, which keeps the old one as superseded) | replace (the same
    # version again, or --replace) | update (same file, new metadata or lineage) | unchanged (already in the corpus)
    action: str
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
    replaces: str | None = None  # doc_id of the document a replace overwrites
    ocr: dict | None = None  # OcrInfo.to_dict() when some of the text was read by OCR
    supersedes: str | None = None  # lineage after the import: the version before this one …
    superseded_by: str | None = None  # … and the one after it (when an older version arrives later)
    lineage: str = ""  # how the lineage was recognised ("标题与地区相同" …)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["clause_count"] = len(self.clauses)
        return d


@dataclass(frozen=True)
class IngestReport:
    doc_id: str
    action: str  # added | versioned (a new version; the old one kept as superseded) | replaced | updated | unchanged
    title: str
    city: str
    status: str
    clauses: int  # chunks of this document in the index
    embedded: int  # clauses that had to be embedded (the rest came from the cache)
    added: int  # chunks added to / removed from the index
    removed: int
    seconds: float
    warnings: tuple[str, ...] = ()
    ocr: dict | None = None  # OcrInfo.to_dict() when some of the text was read by OCR
    supersedes: str | None = None
    superseded_by: str | None = None
    level: str | None = None
    place_code: str | None = None

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
    ocr: dict | None = None  # how the text was read by OCR (confidence, pages, low-confidence pages)
    level: str | None = None
    place_code: str | None = None
    adopted_date: str | None = None
    effective_date: str | None = None
    validity: str | None = None  # trial | interim | repealed, as catalogued
    history: tuple[str, ...] = ()
    expiry_date: str | None = None
    supersedes: str | None = None
    superseded_by: str | None = None
    force: str = ""  # its standing today (domain/versions.py): in_force, amended, repealed, draft …

    @property
    def ingested(self) -> bool:
        return self.sha256 is not None

    @classmethod
    def of(cls, entry: dict, chunks: int | None, force: str = "") -> "DocumentInfo":
        known = {k: entry.get(k) for k in ("short_title", "issuer", "doc_number", "date", "source",
                                           "original_name", "sha256", "ingested_at", "interprets", "ocr",
                                           "adopted_date", "effective_date", "validity", *VERSION_FIELDS)}
        return cls(entry["doc_id"], entry["title"], entry["city"], entry["status"], file=entry["file"],
                   chunks=chunks, history=tuple(entry.get("history") or ()), force=force, **known,
                   **place_fields(entry))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ingested"] = self.ingested
        d["force_label"] = state_label(self.force) if self.force else ""
        return d


def document_infos(entries: list[dict], counts: dict[str, int] | None, on: str | None = None) -> list[DocumentInfo]:
    """The documents with their standing on day `on` (today by default)."""
    forces = states({e["doc_id"]: e for e in entries}, on or today())
    return [DocumentInfo.of(e, counts.get(e["doc_id"]) if counts else None, forces[e["doc_id"]]) for e in entries]


@dataclass(frozen=True)
class Plan:
    preview: Preview
    chunks: tuple[Chunk, ...]
    target: dict | None  # the manifest entry replaced or updated
    relink: bool = False  # the document's lineage links change (a new version, or --supersedes)


# ---------------------------------------------------------------- names

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


def file_stem(doc_id: str, sha256: str) -> str:
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
            raise IngestError(f"无法读取文件 {safe_name(str(path))}：{describe(exc)}") from exc
        if not stat.S_ISREG(info.st_mode):
            raise IngestError(f"{safe_name(str(path))} 不是普通文件")
        check_size(info.st_size, limits)
        try:
            with open(path, "rb") as fh:
                data = fh.read(limits.max_bytes + 1)
        except OSError as exc:
            raise IngestError(f"无法读取文件 {safe_name(str(path))}：{describe(exc)}") from exc
    check_size(len(data), limits)
    return data, filename


def describe(exc: BaseException) -> str:
    if isinstance(exc, AssistantError):
        return str(exc).rstrip("。")
    problem = storage_problem(exc)
    if problem:
        return problem
    if isinstance(exc, OSError):
        return f"系统错误 {exc.errno}"
    return exc.__class__.__name__


# ---------------------------------------------------------------- the plan

def make_plan(data: bytes, name: str, extracted: Extracted, overrides, replace_id: str | None,
              entries: list[dict], max_chunk_tokens: int, supersedes_id: str | None = None) -> Plan:
    """What ingesting this file would do, given the corpus's current entries: pure, writes nothing.

    `replace_id` overwrites that document with this file; `supersedes_id` makes this file the next version of
    that document (the old one is kept, superseded). Without either, a file recognised as a version of a
    document in the corpus joins that document's lineage (see lineage.py)."""
    if replace_id and supersedes_id:
        raise IngestError("--replace 与 --supersedes 不能同时使用：前者覆盖旧文档，后者保留旧版本")
    given = clean_overrides(overrides)
    sha = hashlib.sha256(data).hexdigest()
    known_cities = tuple(dict.fromkeys(e["city"] for e in entries if e.get("city")))
    detected = suggest(extracted.text, known_cities)
    meta = detected.merged(given)
    by_id = {e["doc_id"]: e for e in entries}
    same = next((e for e in entries if e.get("sha256") == sha), None)
    target, placement = None, lineage.Placement()
    if same is not None:
        target = same
        stored = _meta_of(same)
        meta = stored.merged(given)
        if supersedes_id:
            placement = lineage.explicit(supersedes_id, entries, same["doc_id"])
            placement = lineage.Placement(placement.supersedes, same.get("superseded_by"), reason=placement.reason)
        linked = placement.links and placement.supersedes != same.get("supersedes")
        action = "unchanged" if meta == stored and not linked else "update"
    elif replace_id:
        if replace_id not in by_id:
            raise DocumentNotFoundError(f"要替换的文档不存在：{str(replace_id)[:80]}")
        target = by_id[replace_id]
        action = "replace"
    else:
        if supersedes_id:
            placement = lineage.explicit(supersedes_id, entries)
        else:
            placement = lineage.detect(meta, entries, extracted.text)
        if placement.same is not None:
            target, action = placement.same, "replace"
        else:
            action = "version" if placement.links else "add"
    if action == "replace":
        meta = _replacing(_meta_of(target), detected, given)
    elif action == "version":
        meta = _new_version(_meta_of(by_id[placement.supersedes or placement.superseded_by]), detected, given)
    doc_id = target["doc_id"] if target else make_doc_id(name, sha, set(by_id))
    chunks = tuple(chunk_document(doc_id, extracted.text, max_chunk_tokens))
    warnings = extracted.warnings + _lineage_warnings(meta, placement, by_id)
    preview = Preview(
        doc_id=doc_id, action=action, filename=safe_name(name), format=extracted.format, sha256=sha,
        metadata=meta, detected=detected, missing=meta.missing(), clauses=tuple(c.clause for c in chunks),
        characters=len(extracted.text), pages=extracted.pages, warnings=warnings + _place_warning(meta),
        text=extracted.text, replaces=target["doc_id"] if action == "replace" else None,
        ocr=extracted.ocr.to_dict() if extracted.ocr else None,
        supersedes=placement.supersedes if placement.links else (target or {}).get("supersedes"),
        superseded_by=placement.superseded_by if placement.links else (target or {}).get("superseded_by"),
        lineage=placement.reason if placement.links else "")
    return Plan(preview, chunks, target, relink=placement.links)


def _lineage_warnings(meta: DocMeta, placement: lineage.Placement, by_id: dict[str, dict]) -> tuple[str, ...]:
    out = []
    for key in ("supersedes", "superseded_by"):
        other = by_id.get(getattr(placement, key) or "")
        if other and other.get("city") != meta.city:
            out.append(f"与版本关系中的《{other['title']}》所属地区不同（{other.get('city')} / {meta.city}），请确认")
    if placement.superseded_by:
        later = by_id[placement.superseded_by]
        out.append(f"该文件早于已有的《{later['title']}》（{later['doc_id']}），作为其之前的版本导入")
    return tuple(out)


def lineage_entries(plan: Plan, entry: dict, entries: list[dict]) -> list[dict]:
    """The manifest's entries after this ingest: the entry added or put in place of its target, linked into its
    document's lineage."""
    if plan.target is not None:
        out = [entry if e["doc_id"] == plan.target["doc_id"] else e for e in entries]
    else:
        out = entries + [entry]
    if plan.relink:
        out = lineage.relink(out, entry["doc_id"], plan.preview.supersedes, plan.preview.superseded_by)
    return [_ordered(e) for e in out]


def _new_version(previous: DocMeta, detected: DocMeta, given: dict) -> DocMeta:
    """A new version's metadata: what its text and the user say; the place, issuer and title of the version
    before it where the text does not say (never its dates, number or status)."""
    values = {k: getattr(previous, k) for k in ("title", "city", "issuer")}
    values.update({k: v for k, v in detected.to_dict().items() if v and k != "short_title"})
    values.update(given)
    meta = DocMeta.of(values)
    if "short_title" not in given:
        derived = short_title(meta.title, meta.city, meta.issuer)
        keep = previous.short_title and lineage.base_title(meta.title) == lineage.base_title(previous.title) \
            and previous.status != "draft" and meta.status != "draft"
        meta = replace(meta, short_title=previous.short_title if keep else derived)
    return meta



def _place_warning(meta: DocMeta) -> tuple[str, ...]:
    if meta.city and not meta.place_code:
        return (f"行政区划表中没有“{meta.city}”：该文档不参与省、市、区县的上下级范围",)
    return ()


_ENTRY_ORDER = ("doc_id", "file", "title", "short_title", "city", "level", "place_code", "issuer", "doc_number",
                "date", "adopted_date", "effective_date", "expiry_date", "status", "validity", "history",
                "supersedes", "superseded_by", "interprets", "source",
                "original_name", "format", "ocr", "sha256", "ingested_at")


def _ordered(entry: dict) -> dict:
    first = {k: entry[k] for k in _ENTRY_ORDER if k in entry}
    return {**first, **{k: v for k, v in entry.items() if k not in first}}


def new_entry(plan: Plan, name: str, text: str, data: bytes, entries: list[dict]) -> tuple[dict, dict]:
    """The manifest entry after this ingest, and the files to write (relative path → bytes).

    A new document or version gets new files named after its content; a metadata update keeps them."""
    p = plan.preview
    entry = dict(plan.target or {})
    contents: dict[str, bytes] = {}
    if p.action in ("add", "version", "replace"):
        stem = file_stem(p.doc_id, p.sha256)
        text_file, source_file = f"{DOCS_DIR}/{stem}.txt", f"{SOURCES_DIR}/{stem}.{file_format(name)}"
        contents = {text_file: (text + "\n").encode("utf-8"), source_file: data}
        entry.update({"doc_id": p.doc_id, "file": text_file, "source": source_file})
    entry.update({k: v for k, v in p.metadata.to_dict().items() if v or k not in VERSION_FIELDS})
    for key in VERSION_FIELDS:  # a version field the metadata no longer holds is not kept as null
        if key in p.metadata.to_dict() and not getattr(p.metadata, key):
            entry.pop(key, None)
    entry.update({"sha256": p.sha256, "original_name": p.filename, "format": p.format,
                  "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    if p.ocr:
        entry["ocr"] = p.ocr
    else:
        entry.pop("ocr", None)  # a text version replacing a scan is no longer OCR text
    if p.metadata.status == "interpretation" and not entry.get("interprets"):
        interprets = _interpreted(p.metadata, entries)
        if interprets:
            entry["interprets"] = interprets
    return _ordered(entry), contents


def _meta_of(entry: dict) -> DocMeta:
    return DocMeta.of({**entry, "status": entry.get("status") or "official"})


def _replacing(old: DocMeta, detected: DocMeta, given: dict) -> DocMeta:
    """A new version keeps the old metadata the new text does not state; the user's values win."""
    values = old.to_dict()
    values.update({k: v for k, v in detected.to_dict().items() if v and k != "short_title"})
    values.update(given)
    meta = DocMeta.of(values)
    if "city" in given:
        meta = with_place(meta)
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


class MissingFieldError(IngestError):
    """A file whose title or place the text does not state: listed for the user to name, never guessed."""

    def __init__(self, message: str, missing: tuple[str, ...]):
        super().__init__(message)
        self.missing = missing


def require(meta: DocMeta, missing: tuple[str, ...]) -> None:
    if "city" in missing:
        raise MissingFieldError("无法从文件中识别所属城市或区县，请指定城市（命令行 --city，例如 --city 长沙市）", missing)
    if "title" in missing:
        raise MissingFieldError("无法从文件中识别标题，请指定标题（命令行 --title）", missing)
    if meta.status not in STATUSES:
        raise IngestError(f"状态无效：{meta.status}")
