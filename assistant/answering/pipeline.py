"""A question's way through one index snapshot: analysis → scope → route (document information, "which
city", comparison, or the clauses) → candidates → second ranking stage → answer or refusal.
The facade hands questions here; nothing in this module knows where the snapshot came from."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from assistant.answering.compare import (Comparison, Matrix, build_cell, comparison_answer, governing,
                                         is_comparison, silent_reason)
from assistant.answering.refusal import abstain
from assistant.answering.extractive import cite, compose, select
from assistant.answering.quotes import best_quote
from assistant.answering.llm import MODES, generate, with_notice
from assistant.answering.metadata import answer_about_document
from assistant.answering.versions import Versions, check_export, resolve, stamp, stamped_answer
from assistant.answering.versions import notices as version_notices
from assistant.config import Settings
from assistant.domain.bilingual import literals, translations
from assistant.domain.quantities import asked_units, states_figure
from assistant.domain.versions import parse_day, today
from assistant.domain.topics import TOPICS, find_topic
from assistant.domain.values import Answer, Citation
from assistant.errors import QuestionError
from assistant.index.snapshot import Snapshot
from assistant.retrieval.analysis import Query, analyse, split_parts
from assistant.retrieval.hybrid import Hit, HybridRetriever
from assistant.retrieval.rerank import (ANSWERABLE_FEATURES, Candidate, CrossEncoderReranker, Ranked, Ranker,
                                       default_ranker, rerank)
from assistant.retrieval.search import Scope, Searcher, governing_places, resolve_scope

_CANDIDATES = 20  # hybrid candidates the second stage orders
_COMPARE_CANDIDATES = 8  # per city
_OUTSIDE_CANDIDATES = 5  # of the places not asked about, for the refusal check's contrast
ENGLISH_NOTICE = "问题为英文：已按其含义检索中文政策条款，回答引用中文原文。"


class Answerer:
    """Answers over one snapshot, from the versions of its documents one request may cite (by default those
    in force today); cheap to make, so a new one is made when the index changes, and one per "as of" day."""

    _VIEWS_KEPT = 8

    def __init__(self, snapshot: Snapshot, embedder, settings: Settings, llm=None, ranker: Ranker | None = None,
                 versions: Versions | None = None, cross=None):
        self.full = snapshot.full  # every version: document lists, hashes, labels
        self.versions = versions or resolve(self.full.docs)
        self.snapshot = self.full.restricted(self.versions.visible)  # what questions search
        self.embedder = embedder
        self.settings = settings
        self.llm = llm
        self.ranker = ranker or default_ranker()
        self.cross = cross if cross is not None else (
            CrossEncoderReranker(settings.reranker) if settings.reranker else None)
        self.retriever = HybridRetriever(self.snapshot, embedder, settings.candidates, settings.rrf_k)
        self.searcher = Searcher(self.retriever, embedder)
        self._vectors: dict[str, object] = {}
        self._views: dict[tuple, Answerer] = {}
        self.hashes = {d: e.get("text_sha256", "") for d, e in self.full.manifest.get("documents", {}).items()}

    def at(self, as_of=None, include_outdated: bool = False) -> "Answerer":
        """The answerer for the versions in force on day `as_of` (today when None), or for every version
        (`include_outdated`, each citation labelled). Raises QuestionError for a day before every document.
        Views are kept per day: the standings of every document are worked out once, not per question."""
        key = _view_key(as_of, include_outdated)
        if key == _view_key(self.versions.as_of, self.versions.include_outdated, self.versions.on):
            return self
        view = self._views.get(key)
        if view is None:
            versions = resolve(self.full.docs, as_of, include_outdated)
            if len(self._views) >= self._VIEWS_KEPT:
                self._views.clear()
            view = Answerer(self.full, self.embedder, self.settings, self.llm, self.ranker, versions, self.cross)
            self._views[key] = view
        view.llm = self.llm
        return view

    # ------------------------------------------------------------ versions
    def check_export(self, exported: dict) -> list[dict]:
        """Whether each citation of an exported answer still reads the same text and is still in force."""
        return check_export(exported, self.full.docs, self.hashes)

    def _stamped(self, answer: Answer) -> Answer:
        return stamped_answer(answer, self.full.docs, self.hashes, self.versions)

    def _stamp_all(self, citations) -> list[Citation]:
        return [stamp(c, self.full.docs, self.hashes, self.versions) for c in citations]

    def _stamped_comparison(self, comparison: Comparison) -> Comparison:
        cells = tuple(replace(cell, citations=tuple(self._stamp_all(cell.citations))) for cell in comparison.cells)
        stamped = replace(comparison, cells=cells, as_of=self.versions.as_of)
        extra = version_notices(stamped.citations, self.full.docs, self.versions)
        return replace(stamped, notices=tuple(dict.fromkeys((*comparison.notices, *extra))))

    @property
    def cities(self) -> list[str]:
        return list(self.snapshot.cities)

    def analyse(self, question: str) -> Query:
        query = analyse(question, tuple(self.snapshot.cities))
        if not query.english:
            return query
        # every English word, not only the glossary's phrases, in the Chinese words these documents use
        used = lambda word: self.snapshot.document_frequency((word,))  # noqa: E731
        found = (*translations(query.text, used), *literals(query.text, used))
        return replace(query, terms=tuple(dict.fromkeys((*query.terms, *found))))

    def scope(self, query: Query, chosen: list[str] | None, layered: bool = True) -> Scope:
        scope = resolve_scope(f"{query.text} {' '.join(query.places)}", chosen, list(self.full.cities), layered)
        # places the corpus covers, with no version in force on the day asked
        hidden = [c for c in scope.cities if c in self.full.cities and c not in self.cities]
        if hidden and not scope.refusal:
            reason = f"{'、'.join(hidden)}在 {self.versions.on} 时没有施行中的文件。"
            keep = [i for i, c in enumerate(scope.cities) if c not in hidden]
            if not keep:
                return Scope((), scope.notices, reason, (*scope.uncovered, *hidden))
            groups = scope.groups()
            return replace(scope, cities=tuple(scope.cities[i] for i in keep), notices=(*scope.notices, reason),
                           uncovered=(*scope.uncovered, *hidden), layers=tuple(groups[i] for i in keep))
        return scope

    # ------------------------------------------------------------ candidates
    def search(self, query: Query, groups: tuple[tuple[str, ...], ...],
               k: int = _CANDIDATES) -> tuple[list[Hit], object]:
        """The hybrid candidates within the groups of places (see Searcher.hits), and the question's vector."""
        text = query.search_text
        vector = self._vector(text)
        return self.searcher.hits(text, k, groups, vector=vector), vector

    def _vector(self, text: str):
        """The question's vector, embedded once however many cities a comparison searches."""
        cached = self._vectors.get(text)
        if cached is None:
            cached = self.embedder.query_vector(text)
            if len(self._vectors) > 64:
                self._vectors.clear()
            self._vectors[text] = cached
        return cached

    def candidates(self, query: Query, cities: tuple[str, ...], k: int = _CANDIDATES,
                   groups: tuple[tuple[str, ...], ...] | None = None) -> Ranked:
        """Hybrid candidates within the cities (or the groups of places: a city with its layers), ordered by the
        second stage's probability of answering, with the probability that the documents answer at all."""
        groups = groups or tuple((c,) for c in cities)
        hits, vector = self.search(query, groups, k)
        searched = tuple(dict.fromkeys(p for g in groups for p in g))
        return rerank(query, hits, self.snapshot, vector, self.ranker, self.cross, searched,
                      self.outside_hits(query, searched, vector))

    def outside_hits(self, query: Query, searched: tuple[str, ...], vector) -> list[Hit]:
        """The best candidates of the places not searched (none for an unscoped question): what the other
        places say is the yardstick for whether the places asked about say anything. Taken from one search of
        the whole corpus, not a filter listing every other place (thousands of them in a large corpus)."""
        if not searched:
            return []
        records = self.snapshot.records
        hits = self.searcher.hits(query.search_text, 4 * _OUTSIDE_CANDIDATES, (), vector=vector)
        return [h for h in hits if records[h.row].city not in searched][:_OUTSIDE_CANDIDATES]

    def retrieve(self, question: str, k: int = 5, cities: list[str] | None = None, mode: str = "hybrid",
                 detect_places: bool = True, rerank_stage: bool = True, layered: bool = True) -> list[Citation]:
        """Ranked clauses; `mode` ('hybrid', 'dense', 'bm25'), `detect_places=False` and
        `rerank_stage=False` exist for evaluation ablations; `layered=False` keeps to the places' own documents."""
        query = self.analyse(question)
        if cities or detect_places:
            found = self.scope(query, cities, layered)
            groups = () if found.refusal and not cities else found.groups()
        else:
            groups = ()
        scope = tuple(dict.fromkeys(p for g in groups for p in g))
        records = self.snapshot.records
        if mode == "hybrid" and rerank_stage:
            ranked = self.candidates(query, scope, max(k, _CANDIDATES), groups or None).candidates[:k]
            return self._stamp_all(cite(records[c.hit.row], c.probability, i,
                                        best_quote(records[c.hit.row].text, question, query, c.sentence_scores))
                                   for i, c in enumerate(ranked, start=1))
        hits = self.searcher.hits(query.search_text, k, groups, mode)
        return self._stamp_all(cite(records[h.row], h.score, i, best_quote(records[h.row].text, question, query))
                               for i, h in enumerate(hits, start=1))

    # ------------------------------------------------------------ answers
    def ask_stream(self, question: str, cities: list[str] | None = None, mode: str | None = None,
                   layered: bool = True) -> Iterator[str | Answer]:
        """Yield text deltas while a model writes (LLM mode only), then the final checked Answer.

        Refusal is decided here, before any model is called; in LLM mode every failure yields the
        extractive answer plus a notice. Every citation of the final answer records its version."""
        for item in self._ask_stream(question, cities, mode, layered):
            yield self._stamped(item) if isinstance(item, Answer) else item

    def _ask_stream(self, question: str, cities: list[str] | None, mode: str | None,
                    layered: bool) -> Iterator[str | Answer]:
        mode = mode or self.settings.default_mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        query = self.analyse(question)
        scope = self.scope(query, cities, layered)
        notices = (*scope.notices, *((ENGLISH_NOTICE,) if query.english else ()))
        if scope.refusal:
            yield abstain(question, scope.refusal, self.cities, scope.cities, notices)
            return
        answer, best = self._answer(question, query, scope, notices)
        if answer.abstained or mode == "extractive" or not best:
            yield answer
        elif self.llm is None:
            yield with_notice(answer, "未配置大模型（ASSISTANT_LLM_BASE_URL、ASSISTANT_LLM_MODEL），以下为摘录式回答。")
        else:
            yield from generate(self.llm, question, self._sources(question, query, best), answer, self.snapshot.docs,
                                notices)

    def _sources(self, question: str, query: Query, best: list[Candidate]) -> tuple[Citation, ...]:
        """What a model may write from: the best candidates, numbered, each with its answering sentence."""
        records = self.snapshot.records
        return tuple(cite(records[c.hit.row], c.probability, n,
                          best_quote(records[c.hit.row].text, question, query, c.sentence_scores))
                     for n, c in enumerate(best[:self.settings.top_k], start=1))

    def _answer(self, question: str, query: Query, scope: Scope, notices) -> tuple[Answer, list[Candidate]]:
        """The extractive answer, and the best candidates a model may write from (none for routes that are not
        clause answers, which stay extractive)."""
        if query.intent == "meta":
            refuse = lambda reason: abstain(question, reason, self.cities, scope.cities, notices)  # noqa: E731
            about = answer_about_document(question, query, self.snapshot.docs, scope.cities, refuse,
                                          self.snapshot.records)
            if about is not None:  # with the notices of the scope and the language, as every other route
                return (with_notice(about, *notices) if notices else about), []
            query = replace(query, intent="fact", meta_fields=())  # the document's own text says it
        if query.intent == "which_city" or is_comparison(query.text, scope.cities):
            which = query.intent == "which_city" and len(scope.cities) != 1
            if which or len(scope.cities) != 1:
                comparison = self._compare(question, scope.cities or tuple(self.cities), tuple(notices), query,
                                           use_topic=not which, layered=scope.layered)
                return comparison_answer(comparison, self.snapshot.docs, scope.cities, query, which), []
        picks, silent, best = self._clauses(query, scope)
        if not picks:
            where = f"{scope.describe()}的" if scope.cities else "现有"
            return abstain(question, f"{where}政策文件中没有找到能回答该问题的条款。", self.cities, scope.cities,
                           tuple(notices)), []
        answer = compose(question, picks, self.snapshot.records, self.snapshot.docs, scope.cities)
        extra = tuple(f"问题中的“{part}”：{'、'.join(scope.cities) or '现有'}文件中没有找到相关规定。" for part in silent)
        units = asked_units(query.text)
        if units and not any(states_figure(c.text, units) for c in answer.citations):
            # the clause on the topic is there, the number asked for is not: say so rather than let it pass for one
            extra += ("问题问的是具体数字，所引条款没有写明，文件可能只作了原则性规定。",)
        answer = with_notice(answer, *notices, *extra) if (notices or extra) else answer
        return answer, best

    def _clauses(self, query: Query, scope: Scope):
        """For each part of the question, the candidates to cite paired with that part; the parts nothing in the
        documents answers (reported only when another part is answered); and the best candidates overall."""
        parts = split_parts(query.text)
        picks: list[tuple[Candidate, Query]] = []
        silent: list[str] = []
        best: list[Candidate] = []
        groups = scope.groups() if scope.cities else None
        # A part is read against the whole message. The similarity floor is calibrated on whole questions: a part
        # alone ("集团的总校长一般由谁来当") lacks the place and context the message gave it and resembles its clause
        # less, so the floor is read on the message. And a follow-up that names nothing itself ("有没有次数上的
        # 限制", "要走什么程序") would pass the gate on its own after a first part the documents do not answer:
        # so the message must pass the gate too, and then each part must pass it itself.
        message_answers = len(parts) == 1 or self.answers(self.candidates(query, scope.cities, groups=groups), query)
        for part in parts:
            part_query = query if len(parts) == 1 else self.analyse(part)
            ranked = self.candidates(part_query, scope.cities, groups=groups)
            floor = None if len(parts) == 1 else message_answers
            picked = select(ranked.candidates, self.snapshot.records, across_places=not scope.cities) \
                if self.answers(ranked, part_query, floor) else []
            if len(parts) > 1:
                picked = picked[:1]  # one clause per part keeps a multi-part answer readable
            if not picked:
                silent.append(part)
            picks.extend((c, part_query) for c in picked)
            best.extend(c for c in ranked.candidates if all(c.hit.row != b.hit.row for b in best))
        return picks, silent if picks else [], best

    def answers(self, ranked: Ranked, query: Query, above_floor: bool | None = None) -> bool:
        """Whether the documents answer: the learned gate, and a similarity floor (calibrated for Chinese
        questions on eval/gold.jsonl) that a question nothing in the corpus resembles does not pass.
        `above_floor`: the floor, when already decided for a part of a message (see _clauses)."""
        if not ranked.candidates:
            return False
        if ranked.candidates[0].hit.structural:  # the question names a clause by its number, and it exists
            return True
        if ranked.answerable < self.ranker.threshold or _elsewhere(ranked.evidence):
            return False
        return self._above_floor(ranked, query) if above_floor is None else above_floor

    def _above_floor(self, ranked: Ranked, query: Query) -> bool:
        if query.english:  # the floor is calibrated on Chinese wording
            return True
        return any(c.hit.dense >= self.settings.min_dense_score for c in ranked.candidates[:5])

    # ------------------------------------------------------------ comparisons
    def compare(self, text: str, cities: list[str] | None = None, layered: bool = True) -> Comparison:
        query = self.analyse(text)
        scope = self.scope(query, cities, layered)
        if scope.refusal:
            raise QuestionError(abstain(text, scope.refusal, self.cities).answer)
        return self._stamped_comparison(self._compare(text, scope.cities or tuple(self.cities), scope.notices, query,
                                                      layered=layered))

    def compare_matrix(self, cities: list[str] | None = None) -> Matrix:
        scope = tuple(cities) if cities else tuple(self.cities)
        unknown = [c for c in scope if c not in self.cities]
        if unknown:
            hidden = [c for c in unknown if c in self.full.cities]
            if hidden:
                raise QuestionError(f"{'、'.join(hidden)}在 {self.versions.on} 时没有施行中的文件。")
            raise QuestionError(f"语料中没有{'、'.join(unknown)}的文件。")
        return Matrix(scope, tuple(self._stamped_comparison(self._compare(t.label, scope, ())) for t in TOPICS))

    def _compare(self, text: str, scope: tuple[str, ...], notices: tuple[str, ...],
                 query: Query | None = None, use_topic: bool = True, layered: bool = True) -> Comparison:
        """One cell per city; with `layered`, a city's cell also draws on the covered places above it, each
        citation labelled with its place and level."""
        topic = find_topic(text) if use_topic else None
        is_topic_name = topic is not None and text.strip() in (topic.key, topic.label)
        query = query or self.analyse(text)
        if is_topic_name:
            query = self.analyse(topic.query)
        records = self.snapshot.records
        cells, n = [], 1
        for city in scope:
            group = (governing_places(city, self.cities) or (city,)) if layered else (city,)
            ranked = self.candidates(query, (city,), _COMPARE_CANDIDATES, (group,))
            chosen = governing(ranked, records, topic, self.answers(ranked, query), is_topic_name)
            cell = build_cell(city, chosen, records, query.text, n, topic if is_topic_name else None,
                              silent_reason(city, topic), query)
            n += len(cell.citations)
            cells.append(cell)
        label = topic.label if topic is not None else text
        return Comparison(label if is_topic_name or topic else text, topic.key if topic else None, text,
                          tuple(cells), notices)


_OUTSIDE_COVERAGE_GAP = -0.2  # another place's best clause holds this much more of the question's words …
_OUTSIDE_PROBABILITY_GAP = -0.05  # … and is this much more probable: the places asked about are silent


def _elsewhere(evidence) -> bool:
    """Whether the question is answered elsewhere and not here: a place not asked about has a clause that both
    covers far more of the question's words (each word weighed by its rarity across all documents) and is far
    more probable than the best clause of the places asked about. The learned gate weighs the same two gaps, but
    only additively, and learns them from six documents of four cities: on the real regulations of eval/laws
    (nine places) two of three must-refuse questions passed the gate and only this rule refused them, while on
    the twelve-fold rotation the rule changed nothing beyond noise (refusal right 0.948 without, 0.947 with)."""
    gap = evidence[ANSWERABLE_FEATURES.index("outside_gap")]
    coverage_gap = evidence[ANSWERABLE_FEATURES.index("outside_coverage_gap")]
    return bool(coverage_gap <= _OUTSIDE_COVERAGE_GAP and gap <= _OUTSIDE_PROBABILITY_GAP)


def _view_key(as_of, include_outdated: bool, on: str | None = None) -> tuple:
    """Which versions a request sees: its day (today when it names none), whether it named one, and whether
    outdated versions are included."""
    day = parse_day(as_of) if as_of else (on or today())
    return day, bool(as_of), bool(include_outdated)
