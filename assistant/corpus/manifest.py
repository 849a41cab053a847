"""Reads `corpus/` (manifest.json + document texts) into PolicyDocs."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from assistant.errors import CorpusError
from assistant.domain.values import PolicyDoc

MANIFEST = "manifest.json"
REQUIRED = ("doc_id", "file", "title", "city", "status")
STATUSES = ("official", "draft", "interpretation")


def read_manifest(corpus_dir: Path) -> dict:
    manifest_path = corpus_dir / MANIFEST
    if not manifest_path.is_file():
        raise CorpusError(f"找不到语料清单 {manifest_path}，请检查 ASSISTANT_CORPUS_DIR")
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"语料清单 {manifest_path.name} 格式错误：第 {getattr(exc, 'lineno', '?')} 行") from exc


def load_corpus(corpus_dir: Path, manifest: dict | None = None) -> list[PolicyDoc]:
    """The documents the manifest lists (files it does not list are ignored)."""
    if manifest is None:
        manifest = read_manifest(corpus_dir)
    docs: list[PolicyDoc] = []
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
        if corpus_dir.resolve() not in path.parents:
            raise CorpusError(f"文档 {entry['doc_id']} 的文件路径超出语料目录")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise CorpusError(f"找不到文档文件：{entry['file']}") from exc
        except UnicodeDecodeError as exc:
            raise CorpusError(f"文档 {entry['file']} 不是 UTF-8 编码") from exc
        docs.append(PolicyDoc(
            doc_id=entry["doc_id"], title=entry["title"], city=entry["city"],
            issuer=entry.get("issuer"), doc_number=entry.get("doc_number"), date=entry.get("date"),
            status=entry["status"], text=text, short_title=entry.get("short_title"),
            interprets=entry.get("interprets"),
        ))
    if not docs:
        raise CorpusError("语料目录中没有任何文档")
    return docs


def corpus_hash(docs: list[PolicyDoc]) -> str:
    h = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.doc_id):
        meta = [doc.doc_id, doc.title, doc.city, doc.issuer, doc.doc_number, doc.date, doc.status]
        h.update(json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        h.update(hashlib.sha256(doc.text.encode("utf-8")).digest())
    return h.hexdigest()[:16]
