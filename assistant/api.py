"""The Python API: `Assistant().ask(...)`, `.retrieve(...)`."""
from __future__ import annotations

import re
from functools import cached_property
from itertools import zip_longest
from pathlib import Path

from .answer import abstain, best_quote, compose, evidence
from .charter import CharterReport, check_charter, scope_for
from .config import Settings
from .corpus import load_corpus
from .embeddings import make_embedder
from .errors import IndexChangedError, IndexLockedError, QuestionError
from .places import find_places
from .requirements import Requirement, RequirementBook, load_book
from .retrieval import Hit, HybridRetriever
from .schema import Answer, Citation
from .skeleton import Skeleton, build_skeleton
from .store import IndexStore
from .suggest import Candidate, suggest

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
        docs = load_corpus(self.settings.corpus_dir)
        if self.store.state(docs) != "ok":
            self.store.build(docs, progress=progress)
        self.store.load()
        self.retriever = HybridRetriever(self.store, self.embedder, self.settings.candidates,
                                         self.settings.rrf_k)

    @property
    def cities(self) -> list[str]:
        return list(self.store.cities)

    @property
    def documents(self) -> dict[str, dict]:
        return self.store.docs

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
        hits = self._hits(question, k, scope, mode)
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
