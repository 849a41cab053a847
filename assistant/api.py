"""The Python API: `Assistant().ask(...)`, `.retrieve(...)`, and the documents behind them
(`.ingest(...)`, `.preview(...)`, `.remove_document(...)`, `.list_documents()`, ...)."""
from __future__ import annotations

import re
from pathlib import Path

from .answer import abstain, best_quote, compose, evidence
from .chunking import normalize
from .config import Settings
from .corpus import load_corpus
from .embeddings import make_embedder
from .errors import DocumentNotFoundError, QuestionError
from .ingest import DocumentInfo, IngestReport, Library, Preview, RemoveReport
from .places import find_places
from .retrieval import Hit, HybridRetriever
from .schema import Answer, Citation
from .store import ChunkRecord, IndexStore

_READABLE = re.compile(r"[\w\u4e00-\u9fff]")


class Assistant:
    """Answers questions about the bundled (or configured) policy corpus with cited clauses.

    Builds the index on first use when it is missing, or updates it when the corpus changed
    (only new or changed clauses are embedded)."""

    def __init__(self, corpus_dir: str | Path | None = None, index_dir: str | Path | None = None,
                 settings: Settings | None = None, embedder=None, progress=None):
        self.settings = settings or Settings.from_env(corpus_dir=corpus_dir, index_dir=index_dir)
        self.embedder = embedder or make_embedder(self.settings.embedder, self.settings.embed_threads)
        self.store = IndexStore(self.settings, self.embedder)
        self.library = Library(self.settings, IndexStore(self.settings, self.embedder))
        self.library.recover()  # files left by an ingest that was killed
        docs = load_corpus(self.settings.corpus_dir)
        if self.store.state(docs) != "ok":
            self.store.build(docs, progress=progress)
        self.store.load()
        self.retriever = HybridRetriever(self.store, self.embedder, self.settings.candidates,
                                         self.settings.rrf_k)

    def refresh(self) -> None:
        """Load the index again (after the corpus changed); questions in flight keep the old one."""
        store = IndexStore(self.settings, self.embedder)
        store.load()
        retriever = HybridRetriever(store, self.embedder, self.settings.candidates, self.settings.rrf_k)
        self.store, self.retriever = store, retriever

    @property
    def cities(self) -> list[str]:
        return list(dict.fromkeys(d["city"] for d in self.store.docs.values()))

    @property
    def documents(self) -> dict[str, dict]:
        return self.store.docs

    # ------------------------------------------------------------ documents
    def list_documents(self) -> list[DocumentInfo]:
        return self.library.documents()

    def document(self, doc_id: str) -> DocumentInfo:
        return self.library.document(doc_id)

    def document_text(self, doc_id: str) -> str:
        """The document as clean paragraphs, one per line: the text citations quote from."""
        return normalize(self.library.text(doc_id))

    def document_clauses(self, doc_id: str) -> list[ChunkRecord]:
        """The document's indexed clauses in order; `chunk_id` matches `Citation.chunk_id`."""
        if doc_id not in self.store.docs:
            self.library.entry(doc_id)  # raises DocumentNotFoundError for unknown ids
            raise DocumentNotFoundError(f"文档 {doc_id} 尚未建立索引，请运行 policy-assistant index build")
        return sorted((r for r in self.store.records if r.doc_id == doc_id), key=lambda r: r.ordinal)

    def preview(self, source, filename: str | None = None, overrides: dict | None = None,
                replace: str | None = None) -> Preview:
        """Extract text and metadata from a file (a path, or bytes with `filename`) without writing
        anything: for the user to confirm or correct before `ingest`."""
        return self.library.preview(source, filename, overrides, replace)

    def ingest(self, source, filename: str | None = None, overrides: dict | None = None,
               replace: str | None = None, progress=None) -> IngestReport:
        """Add a PDF/DOCX/TXT/MD policy (a path, or bytes with `filename`) to the corpus and the index.

        `overrides` maps title/short_title/city/issuer/doc_number/date/status to values that win over
        the detected ones. The same file twice changes nothing; a new version of a document already
        in the corpus (same city and document number or title, or `replace=doc_id`) replaces it."""
        report = self.library.add(source, filename, overrides, replace, progress=progress)
        if report.action != "unchanged" or report.added or report.removed:
            self.refresh()
        return report

    def remove_document(self, doc_id: str, progress=None) -> RemoveReport:
        report = self.library.remove(doc_id, progress=progress)
        self.refresh()
        return report

    # ------------------------------------------------------------ questions
    def _check(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("问题不能为空，请输入要查询的内容。")
        question = question.strip()
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(f"问题过长（{len(question)} 字），请精简到 {self.settings.max_question_chars} 字以内。")
        if not _READABLE.search(question):
            raise QuestionError("问题中没有可识别的文字，请用中文描述您的问题。")
        return question

    def _hits(self, question: str, k: int, cities: tuple[str, ...]) -> list[Hit]:
        vector = self.embedder.query_vector(question)
        if len(cities) <= 1:
            return self.retriever.search(question, k, cities=list(cities) or None, vector=vector)
        # one search per city, so a city with many clauses cannot crowd out another's single one
        per_city = max(2, k // len(cities) + 1)
        hits: list[Hit] = []
        for city in cities:
            hits.extend(self.retriever.search(question, per_city, cities=[city], vector=vector))
        return hits

    def retrieve(self, question: str, k: int = 5, cities: list[str] | None = None) -> list[Citation]:
        question = self._check(question)
        scope = tuple(cities) if cities else find_places(question, self.cities).covered
        hits = self._hits(question, k, scope)
        records = self.store.records
        return [Citation(chunk_id=r.chunk_id, doc_id=r.doc_id, title=r.title, city=r.city,
                         doc_number=r.doc_number, clause=r.clause, status=r.status, text=r.text,
                         score=round(h.score, 4), n=i, quote=best_quote(r.text, question))
                for i, (h, r) in enumerate(((h, records[h.row]) for h in hits), start=1)]

    def ask(self, question: str, cities: list[str] | None = None) -> Answer:
        question = self._check(question)
        known = self.cities
        places = find_places(question, known)
        notices: list[str] = []
        if cities:
            unknown = [c for c in cities if c not in known]
            if unknown:
                return abstain(question, f"语料中没有{'、'.join(unknown)}的文件。", known, tuple(cities))
            scope = tuple(cities)
        else:
            scope = places.covered
        if places.uncovered:
            missing = "、".join(places.uncovered)
            if not scope:
                return abstain(question, f"语料中没有{missing}的集团化办学政策文件，无法回答该地的规定。",
                               known, notices=(f"未覆盖的地区：{missing}",))
            notices.append(f"语料中没有{missing}的文件，以下仅包含{'、'.join(scope)}的规定。")

        hits = self._hits(question, self.settings.top_k, scope)
        ev = evidence(question, hits, self.store, known)
        if ev.top_dense < self.settings.min_dense_score or ev.term_coverage < self.settings.min_term_coverage:
            where = f"{'、'.join(scope)}的" if scope else "现有"
            return abstain(question, f"{where}政策文件中没有找到能回答该问题的条款。", known, scope,
                           tuple(notices))
        answer = compose(question, hits, self.store.records, self.store.docs, scope)
        if notices:
            answer = Answer(answer.question, answer.answer, answer.abstained, answer.citations,
                            tuple(notices) + answer.notices, answer.mode, answer.cities)
        return answer
