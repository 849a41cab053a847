"""The Python API: `Assistant().ask(...)`, `.ask_stream(...)`, `.retrieve(...)`, `.compare(...)`,
`.check_charter(...)`, and the documents behind them (`.ingest(...)`, `.preview(...)`,
`.remove_document(...)`, `.list_documents()`, ...)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from itertools import zip_longest
from pathlib import Path

from assistant.answering.extractive import abstain, best_quote, compose, evidence
from assistant.charter.check import CharterReport, check_charter, scope_for
from assistant.chunking.clauses import normalize
from assistant.answering.compare import (Comparison, Matrix, build_cell, comparison_answer, governing_hits, is_comparison,
                      silent_reason)
from assistant.config import Settings
from assistant.corpus.manifest import load_corpus
from assistant.index.embedders import make_embedder
from assistant.errors import DocumentNotFoundError, IndexChangedError, IndexLockedError, QuestionError
from assistant.corpus.library import DocumentInfo, IngestReport, Library, Preview, RemoveReport
from assistant.answering.llm import MODES, LLMClient, generate, with_notice
from assistant.domain.places import find_places
from assistant.charter.requirements import Requirement, RequirementBook, load_book
from assistant.retrieval.hybrid import Hit, HybridRetriever
from assistant.domain.values import Answer, Citation
from assistant.charter.skeleton import Skeleton, build_skeleton
from assistant.index.store import ChunkRecord, IndexStore
from assistant.charter.suggest import Candidate, suggest
from assistant.domain.topics import TOPICS, find_topic

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
        # None: LLM mode not configured, answers stay extractive; replaceable (tests, another backend)
        self.llm: LLMClient | None = LLMClient(self.settings) if self.settings.llm_configured else None

    def refresh(self) -> None:
        """Load the index again (after the corpus changed); questions in flight keep the old one."""
        store = IndexStore(self.settings, self.embedder)
        store.load()
        retriever = HybridRetriever(store, self.embedder, self.settings.candidates, self.settings.rrf_k)
        self.store, self.retriever = store, retriever
        self.__dict__.pop("charter_book", None)  # the requirement book quotes the corpus: read it again

    @property
    def cities(self) -> list[str]:
        return list(self.store.cities)

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

    def _hits(self, question: str, k: int, cities: tuple[str, ...], mode: str = "hybrid") -> list[Hit]:
        try:
            return self._search(question, k, cities, mode)
        except IndexChangedError:
            # another process rebuilt the index under this one (e.g. `index build --rebuild` beside the app)
            if self.store.building():
                raise IndexLockedError("索引正在被另一个进程重建，请稍后再试。") from None
            self.store.load()
            return self._search(question, k, cities, mode)

    def _search(self, question: str, k: int, cities: tuple[str, ...], mode: str) -> list[Hit]:
        vector = self.embedder.query_vector(question) if mode != "bm25" else None
        if len(cities) <= 1:
            return self.retriever.search(question, k, cities=list(cities) or None, mode=mode, vector=vector)
        # one search per city, so a city with many clauses cannot crowd out another's single one
        per_city = max(2, k // len(cities) + 1)
        ranked = [self.retriever.search(question, per_city, cities=[city], mode=mode, vector=vector)
                  for city in cities]
        # interleave by rank (each city's best first), so the merged order stays meaningful
        return [h for rank in zip_longest(*ranked) for h in rank if h is not None]

    def retrieve(self, question: str, k: int = 5, cities: list[str] | None = None, mode: str = "hybrid",
                 detect_places: bool = True) -> list[Citation]:
        """Ranked clauses. `mode` ('hybrid', 'dense', 'bm25') and `detect_places=False` (no city
        filter taken from the question) exist for evaluation ablations."""
        question = self._check(question)
        if cities:
            scope = tuple(cities)
        else:
            scope = find_places(question, self.cities).covered if detect_places else ()
        return list(self._citations(question, self._hits(question, k, scope, mode)))

    def _citations(self, question: str, hits: list[Hit]) -> tuple[Citation, ...]:
        records = self.store.records
        return tuple(Citation(chunk_id=r.chunk_id, doc_id=r.doc_id, title=r.title, city=r.city,
                              doc_number=r.doc_number, clause=r.clause, status=r.status, text=r.text,
                              score=round(h.score, 4), n=i, quote=best_quote(r.text, question))
                     for i, (h, r) in enumerate(((h, records[h.row]) for h in hits), start=1))

    def ask(self, question: str, cities: list[str] | None = None, mode: str | None = None) -> Answer:
        """The final answer of `ask_stream` (mode: "extractive", "llm", or None for the configured default)."""
        answer = None
        for item in self.ask_stream(question, cities, mode):
            answer = item
        return answer

    def ask_stream(self, question: str, cities: list[str] | None = None,
                   mode: str | None = None) -> Iterator[str | Answer]:
        """Yield text deltas while a model writes (LLM mode only), then the final checked Answer.

        The deltas are unchecked draft text; the final Answer replaces them. Abstention is decided here,
        before any model is called; in LLM mode every failure yields the extractive answer plus a notice."""
        mode = mode or self.settings.default_mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        question = self._check(question)
        scoped = self._scope(question, cities)
        if isinstance(scoped, Answer):
            yield scoped
            return
        scope, notices = scoped
        if is_comparison(question, scope):
            yield self._compare_answer(question, scope or tuple(self.cities), notices)
            return
        grounds = self._ground(question, scope, notices)
        if isinstance(grounds, Answer):
            yield grounds
            return
        hits, scope, notices = grounds
        answer = compose(question, hits, self.store.records, self.store.docs, scope)
        extractive = with_notice(answer, *notices) if notices else answer
        if mode == "extractive":
            yield extractive
        elif self.llm is None:
            yield with_notice(extractive, "未配置大模型（ASSISTANT_LLM_BASE_URL、ASSISTANT_LLM_MODEL），以下为摘录式回答。")
        else:
            yield from generate(self.llm, question, self._citations(question, hits), extractive,
                                self.store.docs, notices)

    def _scope(self, question: str, cities: list[str] | None) -> Answer | tuple[tuple[str, ...], tuple[str, ...]]:
        """The cities a question is about (chosen, or named in it), with notices about places the corpus
        does not cover; or an abstention when it is only about such places."""
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
        return scope, tuple(notices)

    def _ground(self, question: str, scope: tuple[str, ...],
                notices: tuple[str, ...]) -> Answer | tuple[list[Hit], tuple[str, ...], tuple[str, ...]]:
        """An abstention, or the hits, the cities in scope and notices about places not covered."""
        known = self.cities
        hits = self._hits(question, self.settings.top_k, scope)
        ev = evidence(question, hits, self.store, known)
        if ev.top_dense < self.settings.min_dense_score or ev.term_coverage < self.settings.min_term_coverage:
            where = f"{'、'.join(scope)}的" if scope else "现有"
            return abstain(question, f"{where}政策文件中没有找到能回答该问题的条款。", known, scope,
                           tuple(notices))
        return hits, scope, tuple(notices)

    # ------------------------------------------------------------ comparisons
    def compare(self, question_or_topic: str, cities: list[str] | None = None) -> Comparison:
        """The same question (or catalogue topic) answered per city: each city's governing clauses,
        quoted verbatim with their key figures, or an explicit 未作规定."""
        text = self._check(question_or_topic)
        scoped = self._scope(text, cities)
        if isinstance(scoped, Answer):
            raise QuestionError(scoped.answer)
        scope, notices = scoped
        return self._compare(text, scope or tuple(self.cities), notices)

    def compare_matrix(self, cities: list[str] | None = None) -> Matrix:
        """Every catalogue topic × every city."""
        scope = tuple(cities) if cities else tuple(self.cities)
        unknown = [c for c in scope if c not in self.cities]
        if unknown:
            raise QuestionError(f"语料中没有{'、'.join(unknown)}的文件。")
        return Matrix(scope, tuple(self._compare(t.label, scope, ()) for t in TOPICS))

    def _compare(self, text: str, scope: tuple[str, ...], notices: tuple[str, ...]) -> Comparison:
        topic = find_topic(text)
        is_topic_name = topic is not None and text.strip() in (topic.key, topic.label)
        query = topic.query if is_topic_name else text
        vector = self.embedder.query_vector(query)
        records = self.store.records
        cells, n = [], 1
        for city in scope:
            hits = self.retriever.search(query, 6, cities=[city], vector=vector)
            chosen = governing_hits(hits, records, topic, query, self.store, self.cities,
                                    self.settings.min_dense_score, self.settings.min_term_coverage)
            cell = build_cell(city, chosen, records, query, n, topic, silent_reason(city, topic))
            n += len(cell.citations)
            cells.append(cell)
        label = topic.label if topic is not None else text
        return Comparison(label if is_topic_name or topic else text, topic.key if topic else None, text,
                          tuple(cells), notices)

    def _compare_answer(self, question: str, scope: tuple[str, ...], notices: tuple[str, ...]) -> Answer:
        return comparison_answer(self._compare(question, scope, notices), self.store.docs, scope)

    # ------------------------------------------------------------ charters (no index needed)
    @cached_property
    def charter_book(self) -> RequirementBook:
        """Curated requirements of `corpus/requirements.json`, quotes verified against the corpus."""
        return load_book(self.settings.corpus_dir)

    def check_charter(self, text: str, city: str, group_type: str | None = None) -> CharterReport:
        """Check a draft charter's text against the requirements of `city` (and its group type)."""
        return check_charter(self.charter_book, text, city, group_type)

    def charter_skeleton(self, city: str, group_type: str | None = None) -> Skeleton:
        """A charter outline covering every requirement, each article annotated with its clause."""
        return build_skeleton(self.charter_book, city, group_type)

    def charter_requirements(self, city: str, group_type: str | None = None) -> tuple[Requirement, ...]:
        return scope_for(self.charter_book, city, group_type).requirements

    def suggest_requirements(self, doc_id: str) -> list[Candidate]:
        """Obligation-like sentences of a document, for a person to confirm as requirements."""
        return suggest(self.charter_book, doc_id)
