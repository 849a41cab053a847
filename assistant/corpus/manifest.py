"""`corpus/manifest.json` and the texts it lists: typed entries, read without reading every text."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from assistant.domain.divisions import place_of
from assistant.domain.values import STATUSES, PolicyDoc
from assistant.domain.versions import VERSION_FIELDS
from assistant.errors import CorpusError

MANIFEST = "manifest.json"
REQUIRED = ("doc_id", "file", "title", "city", "status")
META_FIELDS = ("doc_id", "title", "city", "issuer", "doc_number", "date", "status", "short_title", "interprets",
               "level", "place_code", "adopted_date", "effective_date", "validity")
_PLACE_FIELDS = ("level", "place_code")


@dataclass(frozen=True)
class DocEntry:
    """A document as the manifest lists it: its metadata and where its text is, not the text itself."""

    doc_id: str
    title: str
    city: str
    status: str
    path: Path  # the text file (inside the corpus directory)
    issuer: str | None = None
    doc_number: str | None = None
    date: str | None = None
    short_title: str | None = None
    interprets: str | None = None
    ocr: bool = False  # some of the text was read from a scan by OCR
    level: str | None = None  # national | province | city | district: the layer of government it belongs to
    place_code: str | None = None  # the division code of `city` (100000 for 全国)
    adopted_date: str | None = None
    effective_date: str | None = None
    validity: str | None = None  # trial | interim | repealed
    # the rest of its validity and lineage (domain/versions.py): the first day it no longer applies, and the
    # previous and next versions of the same document
    expiry_date: str | None = None
    supersedes: str | None = None
    superseded_by: str | None = None

    def meta(self) -> dict:
        meta = {k: getattr(self, k) for k in META_FIELDS}
        if self.ocr:  # only when set, so the digests of all other documents stay what they were
            meta["ocr"] = True
        meta.update({k: getattr(self, k) for k in VERSION_FIELDS if getattr(self, k)})  # likewise
        return meta

    def read_text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise CorpusError(f"找不到文档文件：{self.path.name}") from exc
        except UnicodeDecodeError as exc:
            raise CorpusError(f"文档 {self.path.name} 不是 UTF-8 编码") from exc

    def load(self) -> PolicyDoc:
        return PolicyDoc(doc_id=self.doc_id, title=self.title, city=self.city, issuer=self.issuer,
                         doc_number=self.doc_number, date=self.date, status=self.status, text=self.read_text(),
                         short_title=self.short_title, interprets=self.interprets, level=self.level,
                         place_code=self.place_code, adopted_date=self.adopted_date,
                         effective_date=self.effective_date, validity=self.validity,
                         **{k: getattr(self, k) for k in VERSION_FIELDS})


def read_manifest(corpus_dir: Path) -> dict:
    manifest_path = corpus_dir / MANIFEST
    if not manifest_path.is_file():
        raise CorpusError(f"找不到语料清单 {manifest_path}，请检查 ASSISTANT_CORPUS_DIR")
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"语料清单 {manifest_path.name} 格式错误：第 {getattr(exc, 'lineno', '?')} 行") from exc


def list_documents(corpus_dir: Path, manifest: dict | None = None, whole: bool = True) -> list[DocEntry]:
    """The documents the manifest lists, validated (files it does not list are ignored). `whole=False` reads a
    part of a manifest (one entry), whose version links may name entries it leaves out."""
    if manifest is None:
        manifest = read_manifest(corpus_dir)
    root = corpus_dir.resolve()
    entries: list[DocEntry] = []
    seen: set[str] = set()
    for entry in manifest.get("documents", []):
        missing = [k for k in REQUIRED if not entry.get(k)]
        if missing:
            raise CorpusError(f"语料清单中的文档缺少字段：{', '.join(missing)}")
        if entry["doc_id"] in seen:
            raise CorpusError(f"语料清单中的文档编号重复：{entry['doc_id']}")
        if entry["status"] not in STATUSES:
            raise CorpusError(f"文档 {entry['doc_id']} 的状态无效：{entry['status']}")
        seen.add(entry["doc_id"])
        path = (corpus_dir / entry["file"]).resolve()
        if root not in path.parents:
            raise CorpusError(f"文档 {entry['doc_id']} 的文件路径超出语料目录")
        entries.append(DocEntry(path=path, ocr=bool(entry.get("ocr")),
                                **{**{k: entry.get(k) for k in META_FIELDS}, **place_fields(entry)},
                                **{k: entry.get(k) or None for k in VERSION_FIELDS}))
    if not entries:
        raise CorpusError("语料目录中没有任何文档")
    if whole:
        _check_links(entries)
    return entries


def _check_links(entries: list[DocEntry]) -> None:
    """Lineage links name listed documents and agree both ways (a hand-edited manifest is refused, not guessed)."""
    by_id = {e.doc_id: e for e in entries}
    for e in entries:
        for key, back in (("supersedes", "superseded_by"), ("superseded_by", "supersedes")):
            other = getattr(e, key)
            if other is None:
                continue
            if other not in by_id:
                raise CorpusError(f"语料清单中文档 {e.doc_id} 的版本关系指向不存在的文档：{other}")
            if getattr(by_id[other], back) != e.doc_id:
                raise CorpusError(f"语料清单中文档 {e.doc_id} 与 {other} 的版本关系不一致（{key}）")


def place_fields(entry: dict) -> dict:
    """The entry's level and place code; looked up from its city when the entry predates them (the bundled
    corpus, an older user corpus), so every document has its layer. A city the division table does not list
    has none."""
    if all(entry.get(k) for k in _PLACE_FIELDS):
        return {k: entry[k] for k in _PLACE_FIELDS}
    place = place_of(entry.get("city"))
    return {"level": place.level if place else None, "place_code": place.code if place else None}


def load_corpus(corpus_dir: Path, manifest: dict | None = None) -> list[PolicyDoc]:
    """Every listed document with its text (for consumers that need all texts at once)."""
    return [entry.load() for entry in list_documents(corpus_dir, manifest)]


def document_digest(meta: dict, text_sha256: str) -> str:
    """What a document's index rows depend on: its metadata and its text."""
    values = [meta.get(k) for k in META_FIELDS] + (["ocr"] if meta.get("ocr") else [])
    values += [f"{k}={meta[k]}" for k in VERSION_FIELDS if meta.get(k)]  # only when set: older digests hold
    payload = json.dumps(values, ensure_ascii=False) + text_sha256
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def corpus_hash(digests: dict[str, str]) -> str:
    """One hash of the whole corpus from its documents' digests (doc_id → document_digest)."""
    h = hashlib.sha256()
    for doc_id in sorted(digests):
        h.update(f"{doc_id}\0{digests[doc_id]}\n".encode("utf-8"))
    return h.hexdigest()[:16]
