"""A question's way through one index snapshot: scope → search → evidence → answer or refusal; comparisons
per city. The facade hands questions here; nothing in this module knows where the snapshot came from."""
from __future__ import annotations

from collections.abc import Iterator

from assistant.answering.compare import (Comparison, Matrix, build_cell, comparison_answer, governing_hits,
                                         is_comparison, silent_reason)
from assistant.answering.evidence import abstain, evidence
from assistant.answering.extractive import best_quote, cite, compose
from assistant.answering.llm import MODES, generate, with_notice
from assistant.config import Settings
from assistant.domain.topics import TOPICS, find_topic
from assistant.domain.values import Answer, Citation
from assistant.errors import QuestionError
from assistant.index.snapshot import Snapshot
from assistant.retrieval.hybrid import Hit, HybridRetriever
from assistant.retrieval.search import Scope, Searcher, resolve_scope

_COMPARE_CANDIDATES = 6  # clauses retrieved per city before the topic's signature check


class Answerer:
    """Answers over one snapshot; cheap to make, so a new one is made when the index changes."""

    def __init__(self, snapshot: Snapshot, embedder, settings: Settings, llm=None):
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings
        self.llm = llm
        self.retriever = HybridRetriever(snapshot, embedder, settings.candidates, settings.rrf_k)
        self.searcher = Searcher(self.retriever, embedder)

    @property
    def cities(self) -> list[str]:
        return list(self.snapshot.cities)

    # ------------------------------------------------------------ retrieval
    def retrieve(self, question: str, k: int = 5, cities: list[str] | None = None, mode: str = "hybrid",
                 detect_places: bool = True) -> list[Citation]:
        if cities:
            scope = tuple(cities)
        else:
            scope = resolve_scope(question, None, self.cities).cities if detect_places else ()
        return list(self.citations(question, self.searcher.hits(question, k, scope, mode)))

    def citations(self, question: str, hits: list[Hit]) -> tuple[Citation, ...]:
        records = self.snapshot.records
        return tuple(cite(records[h.row], h.score, i, best_quote(records[h.row].text, question))
                     for i, h in enumerate(hits, start=1))

    # ------------------------------------------------------------ answers
    def ask_stream(self, question: str, cities: list[str] | None = None,
                   mode: str | None = None) -> Iterator[str | Answer]:
        """Yield text deltas while a model writes (LLM mode only), then the final checked Answer.

        Abstention is decided here, before any model is called; in LLM mode every failure yields the
        extractive answer plus a notice."""
        mode = mode or self.settings.default_mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        scope = resolve_scope(question, cities, self.cities)
        if scope.refusal:
            yield abstain(question, scope.refusal, self.cities, scope.cities, scope.notices)
            return
        if is_comparison(question, scope.cities):
            comparison = self._compare(question, scope.cities or tuple(self.cities), scope.notices)
            yield comparison_answer(comparison, self.snapshot.docs, scope.cities)
            return
        hits = self.searcher.hits(question, self.settings.top_k, scope.cities)
        refusal = self._refusal(question, hits, scope)
        if refusal is not None:
            yield refusal
            return
        answer = compose(question, hits, self.snapshot.records, self.snapshot.docs, scope.cities)
        extractive = with_notice(answer, *scope.notices) if scope.notices else answer
        if mode == "extractive":
            yield extractive
        elif self.llm is None:
            yield with_notice(extractive, "未配置大模型（ASSISTANT_LLM_BASE_URL、ASSISTANT_LLM_MODEL），以下为摘录式回答。")
        else:
            yield from generate(self.llm, question, self.citations(question, hits), extractive,
                                self.snapshot.docs, scope.notices)

    def _refusal(self, question: str, hits: list[Hit], scope: Scope) -> Answer | None:
        ev = evidence(question, hits, self.snapshot, self.cities)
        if ev.top_dense < self.settings.min_dense_score or ev.term_coverage < self.settings.min_term_coverage:
            where = f"{'、'.join(scope.cities)}的" if scope.cities else "现有"
            return abstain(question, f"{where}政策文件中没有找到能回答该问题的条款。", self.cities, scope.cities,
                           scope.notices)
        return None

    # ------------------------------------------------------------ comparisons
    def compare(self, text: str, cities: list[str] | None = None) -> Comparison:
        scope = resolve_scope(text, cities, self.cities)
        if scope.refusal:
            raise QuestionError(abstain(text, scope.refusal, self.cities).answer)
        return self._compare(text, scope.cities or tuple(self.cities), scope.notices)

    def compare_matrix(self, cities: list[str] | None = None) -> Matrix:
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
        records = self.snapshot.records
        cells, n = [], 1
        for city in scope:
            hits = self.retriever.search(query, _COMPARE_CANDIDATES, cities=[city], vector=vector)
            chosen = governing_hits(hits, records, topic, query, self.snapshot, self.cities,
                                    self.settings.min_dense_score, self.settings.min_term_coverage)
            cell = build_cell(city, chosen, records, query, n, topic, silent_reason(city, topic))
            n += len(cell.citations)
            cells.append(cell)
        label = topic.label if topic is not None else text
        return Comparison(label if is_topic_name or topic else text, topic.key if topic else None, text,
                          tuple(cells), notices)
