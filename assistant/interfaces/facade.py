"""The Python API: `Assistant().ask(...)`, `.ask_stream(...)`, `.retrieve(...)`, `.compare(...)`,
`.check_charter(...)`, and the documents behind them (`.ingest(...)`, `.preview(...)`,
`.remove_document(...)`, `.list_documents()`, ...).

A thin facade: it wires the stages together and delegates. Nothing is loaded when it is made; the index is
opened (and built or brought up to date when needed) by `open()` or on first use, and charter checking needs
no index at all. Questions are answered from an immutable snapshot; after a write, or when another process
commits a new index generation, the next question gets the new snapshot while questions in flight finish
on the old one."""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from assistant.answering.compare import Comparison, Matrix
from assistant.answering.llm import LLMClient
from assistant.answering.pipeline import Answerer
from assistant.charter.check import CharterReport, check_charter, scope_for
from assistant.charter.io import read_draft, write_report, write_skeleton
from assistant.charter.requirements import Requirement, RequirementBook, load_book
from assistant.charter.skeleton import Skeleton, build_skeleton
from assistant.charter.suggest import Candidate, suggest
from assistant.chunking.clauses import normalize
from assistant.chunking.diff import VersionDiff
from assistant.config import PROJECT_ROOT, Settings
from assistant.corpus import batch
from assistant.corpus.batch import BatchReport
from assistant.corpus.library import Library
from assistant.corpus.plan import DocumentInfo, IngestReport, Preview, RemoveReport
from assistant import files
from assistant.domain.places import city_list
from assistant.domain.status import StoreStatus
from assistant.domain.values import Answer, Citation
from assistant.errors import AssistantError, DocumentNotFoundError, IndexMismatchError, QuestionError, StorageError
from assistant.index.embedders import make_embedder
from assistant.index.records import ChunkRecord
from assistant.index.snapshot import Snapshot
from assistant.index.writer import BuildReport, IndexWriter
from assistant.domain.versions import parse_day
from assistant.render.diff import write_diff
from assistant.retrieval.dialogue import Turn, resolve

_READABLE = re.compile(r"[\w\u4e00-\u9fff]")
log = logging.getLogger("assistant")


class Assistant:
    """Answers questions about the bundled (or configured) policy corpus with cited clauses."""

    def __init__(self, corpus_dir: str | Path | None = None, index_dir: str | Path | None = None,
                 settings: Settings | None = None, embedder=None, progress=None):
        self.settings = settings or Settings.from_env(corpus_dir=corpus_dir, index_dir=index_dir)
        self.embedder = embedder or make_embedder(self.settings.embedder, self.settings.embed_threads)
        self.library = Library(self.settings)
        self.writer = IndexWriter(self.settings, self.embedder)
        # None: LLM mode not configured, answers stay extractive; replaceable (tests, another backend)
        self.llm: LLMClient | None = LLMClient(self.settings) if self.settings.llm_configured else None
        self._progress = progress
        self._answerer: Answerer | None = None
        self._open_lock = threading.Lock()
        self.notes: tuple[str, ...] = ()  # what the last open() had to say that users should keep seeing

    # ------------------------------------------------------------ the index
    def status(self) -> StoreStatus:
        """Where the corpus and the index stand; reads, never writes (works on a read-only directory)."""
        writable = files.writable(self.settings.index_dir)
        try:
            index = self.writer.state(self.library.documents_to_index())
            problem = ""
        except IndexMismatchError as exc:
            index, problem = "mismatch", str(exc)
        counts = self.writer.committed_counts()
        return StoreStatus(index=index, writable=writable, interrupted_ingest=self.library.needs_recovery(),
                           interrupted_write=self.writer.pending(),
                           chunks=sum(counts.values()) if counts is not None else None,
                           generation=self.writer.generation(), problem=problem)

    def open(self, progress=None, notify=None) -> "Assistant":
        """Recover from an interrupted write, bring the index up to date with the corpus (embedding only new
        text), and load it. Idempotent; called on first use when not called explicitly.

        `notify(message)` hears what happens (恢复中…, 恢复完成…, read-only); `progress(done, total)` the
        embedding. On a read-only index directory nothing is written: questions are answered from the
        committed index, and `notify` is told so once. When the index cannot be updated (a full disk, another
        writer holding the lock) the committed index answers and `notify` is told why."""
        say = notify or log.info
        with self._open_lock:
            status = self.status()
            if status.index == "mismatch":
                raise IndexMismatchError(status.problem)
            if not status.writable:
                self._read_only(status, say)
            elif not status.ready:
                self._recover(status, progress or self._progress, say)
            self._answerer = self._answerer_for(Snapshot.open(self.settings, self.embedder.model_id))
        return self

    def _read_only(self, status: StoreStatus, say) -> None:
        if status.chunks is None:
            raise StorageError(f"索引不存在，且索引目录 {self.settings.index_dir} 只读，无法构建。请在可写的目录中运行 "
                               "policy-assistant index build，再把 index/ 复制过来。")
        extra = f"；待恢复：{status.recovery()}（需要可写的目录）" if not status.ready else ""
        self.notes = (f"索引目录 {self.settings.index_dir} 只读：按已有的索引回答问题，不做恢复和更新，"
                      f"导入和删除文档不可用{extra}。",)
        say(self.notes[0])

    def _recover(self, status: StoreStatus, progress, say) -> None:
        """At start, not inside a question: finish or undo an interrupted write, then build or update."""
        if status.needs_recovery:
            say(f"恢复中：{status.recovery()}……")
        else:
            say("正在构建索引……" if status.index == "missing" else "语料有改动，正在更新索引……")
        try:
            self.library.recover()
            self.ensure_index(progress)
        except AssistantError as exc:  # a full disk, another writer, a damaged vector store: answer anyway
            if self.writer.committed_counts() is None:
                raise
            self.notes = (f"索引未能更新（{str(exc).rstrip('。')}），按已有的索引回答。",)
            say(self.notes[0])
            return
        after = self.status()
        self.notes = ()
        say(("恢复完成：" if status.needs_recovery else "索引已就绪：") + after.summary())

    def ensure_index(self, progress=None) -> BuildReport | None:
        """Build or update the index when the corpus changed; None when it was already current."""
        documents = self.library.documents_to_index()
        if self.writer.state(documents) == "ok":
            return None
        return self.writer.update(documents, progress=progress)

    def build_index(self, rebuild: bool = False, progress=None) -> BuildReport:
        """`index build`: recover from an interrupted write, then update (or rebuild) the index."""
        self.library.recover()
        report = self.writer.update(self.library.documents_to_index(), rebuild=rebuild, progress=progress)
        if self._answerer is not None:
            self._reload()
        return report

    def write_seed_cache(self):
        """Ship this corpus's vectors with it (corpus/embedding-cache.sqlite): (path, number of vectors)."""
        return self.writer.write_seed_cache(self.library.documents_to_index())

    def _answerer_for(self, snapshot: Snapshot) -> Answerer:
        return Answerer(snapshot, self.embedder, self.settings, self.llm)

    @property
    def answerer(self) -> Answerer:
        """The answerer over the newest committed snapshot (reopened when another process committed one)."""
        answerer = self._answerer
        if answerer is None:
            self.open()
            return self._answerer
        if not answerer.snapshot.is_current():
            self._reload()
            return self._answerer
        answerer.llm = self.llm  # the LLM client is replaceable at any time
        return answerer

    def _reload(self) -> None:
        with self._open_lock:
            current = self._answerer
            if current is None or not current.snapshot.is_current():
                self._answerer = self._answerer_for(Snapshot.open(self.settings, self.embedder.model_id))

    @property
    def snapshot(self) -> Snapshot:
        return self.answerer.snapshot

    @property
    def cities(self) -> list[str]:
        return list(self.snapshot.cities)

    @property
    def documents(self) -> dict[str, dict]:
        return self.snapshot.docs

    # ------------------------------------------------------------ documents
    def _counts(self) -> dict[str, int] | None:
        """Clauses per document in the index in use, or else in the committed one: listing documents neither
        builds nor recovers anything, and never calls an index that exists 未建索引."""
        if self._answerer is not None:
            return self.answerer.snapshot.chunk_counts()
        return self.writer.committed_counts()

    def list_documents(self, on: str | None = None) -> list[DocumentInfo]:
        """Every document, each with its standing (`force`) on day `on` (YYYY-MM-DD; today by default)."""
        return self.library.documents(self._counts(), _day(on))

    def document(self, doc_id: str, on: str | None = None) -> DocumentInfo:
        return self.library.document(doc_id, self._counts(), _day(on))

    # ------------------------------------------------------------ versions
    def versions(self, doc_id: str, on: str | None = None) -> list[DocumentInfo]:
        """The versions of a document (its lineage through `supersedes`/`superseded_by`), oldest first."""
        return self.library.versions(doc_id, _day(on))

    def diff(self, old: str, new: str | None = None) -> VersionDiff:
        """What changed from document `old` to `new` (by default the version after `old`), clause by clause:
        `.changes` (added / removed / changed / unchanged, moved and renumbered flagged, changed characters
        marked), `.counts()`, `.to_markdown()`, `.to_dict()`; `write_diff(diff, "x.docx")` saves it."""
        return self.library.diff(old, new)

    def set_supersedes(self, doc_id: str, supersedes: str | None, progress=None) -> DocumentInfo:
        """Link documents already in the corpus: `doc_id` becomes the next version of `supersedes` (None cuts
        it from the version before it). Checked as `ingest(..., supersedes=)` is; nothing changes on error."""
        info = self.library.link(doc_id, supersedes, self._apply, progress)
        self._changed()
        return info

    @staticmethod
    def write_diff(diff: VersionDiff, path: str | Path) -> Path:
        """Save a version comparison as Markdown or Word (by the file's extension)."""
        return write_diff(diff, path)

    def check_export(self, exported: dict) -> list[dict]:
        """For each citation of an exported answer (`Answer.to_dict()`): whether its text is still in the
        corpus unchanged (by the recorded hash) and whether that version is still the one in force."""
        return self.answerer.check_export(exported)

    def document_source_text(self, doc_id: str) -> str:
        """The document's stored text as extracted (before normalisation)."""
        return self.library.text(doc_id)

    def document_outline(self, doc_id: str) -> list:
        """The document's clauses as the chunker makes them (no index needed)."""
        return self.library.clauses(doc_id)

    def document_text(self, doc_id: str) -> str:
        """The document as clean paragraphs, one per line: the text citations quote from."""
        return normalize(self.library.text(doc_id))

    def document_clauses(self, doc_id: str) -> list[ChunkRecord]:
        """The document's indexed clauses in order; `chunk_id` matches `Citation.chunk_id`."""
        snapshot = self.snapshot
        if doc_id not in snapshot.docs:
            self.library.entry(doc_id)  # raises DocumentNotFoundError for unknown ids
            raise DocumentNotFoundError(f"文档 {doc_id} 尚未建立索引，请运行 policy-assistant index build")
        return sorted((r for r in snapshot.records if r.doc_id == doc_id), key=lambda r: r.ordinal)

    def preview(self, source, filename: str | None = None, overrides: dict | None = None,
                replace: str | None = None, progress=None, supersedes: str | None = None) -> Preview:
        """Extract text and metadata from a file (a path, or bytes with `filename`) without writing
        anything: for the user to confirm or correct before `ingest` (which reuses this extraction).
        `progress(done, total)` hears of the pages of a scan read by OCR (with `stage="ocr"` when it takes
        a `stage` keyword)."""
        return self.library.preview(source, filename, overrides, replace, progress, supersedes)

    def ingest(self, source, filename: str | None = None, overrides: dict | None = None,
               replace: str | None = None, progress=None, supersedes: str | None = None) -> IngestReport:
        """Add a PDF/DOCX/TXT/MD policy or a PNG/JPEG scan (a path, or bytes with `filename`) to the corpus
        and the index. `progress(done, total)` hears of the pages OCR reads and then of the clauses embedded;
        a callback taking a `stage` keyword is told which ("ocr", "embed").

        `overrides` maps title/short_title/city/issuer/doc_number/date/status to values that win over
        the detected ones. The same file twice changes nothing. A new version of a document already in the
        corpus (same place and title once 修订/征求意见稿 marks are set aside, or the same 文号 series; or named by
        `supersedes=doc_id`) is added beside it and the old one kept as superseded (已修正; a draft followed by
        its final text: 已定稿); `replace=doc_id` overwrites a document instead."""
        report = self.library.add(source, self._apply, filename, overrides, replace, progress=progress,
                                  supersedes_id=supersedes)
        self._changed()
        return report

    def remove_document(self, doc_id: str, progress=None) -> RemoveReport:
        report = self.library.remove(doc_id, self._apply, progress=progress)
        self._changed()
        return report

    def _changed(self) -> None:
        self.__dict__.pop("charter_book", None)  # the requirement book quotes the corpus: read it again
        if self._answerer is not None:
            self._reload()

    def _apply(self, documents, progress) -> BuildReport:
        return self.writer.update(documents, progress=progress)

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

    def _at(self, as_of, include_outdated: bool) -> Answerer:
        """The answerer for the versions in force on `as_of` (today when None), or for every version."""
        return self.answerer.at(as_of, include_outdated)

    def retrieve(self, question: str, k: int = 5, cities: list[str] | None = None, mode: str = "hybrid",
                 detect_places: bool = True, rerank: bool = True, only_place: bool = False, as_of=None,
                 include_outdated: bool = False) -> list[Citation]:
        """Ranked clauses. `mode` ('hybrid', 'dense', 'bm25'), `detect_places=False` (no city filter taken
        from the question) and `rerank=False` (no second ranking stage) exist for evaluation ablations.
        `only_place`, `as_of` and `include_outdated` as for `ask`."""
        question = self._check(question)
        return self._at(as_of, include_outdated).retrieve(question, k, city_list(cities), mode, detect_places,
                                                          rerank, layered=not only_place)

    def ask(self, question: str, cities: list[str] | None = None, mode: str | None = None,
            only_place: bool = False, as_of=None, include_outdated: bool = False) -> Answer:
        """The final answer of `ask_stream` (mode: "extractive", "llm", or None for the configured default).

        A school is governed by its place's documents and those of the places above it (青岛市 → 山东省 →
        全国): all are searched unless `only_place`, each citation labelled with its layer ("山东省·省级").
        Answers come from the versions in force today; `as_of` ("2023-09-01" or a date) answers from those in
        force on that day; `include_outdated=True` may also cite superseded, repealed or finalised-draft
        versions, each labelled. Every citation records its document's hash (`doc_sha256`), its version
        date and its standing (`force`)."""
        answer = None
        for item in self.ask_stream(question, cities, mode, only_place, as_of, include_outdated):
            answer = item
        return answer

    def ask_stream(self, question: str, cities: list[str] | None = None, mode: str | None = None,
                   only_place: bool = False, as_of=None, include_outdated: bool = False) -> Iterator[str | Answer]:
        """Yield text deltas while a model writes (LLM mode only), then the final checked Answer."""
        question = self._check(question)
        yield from self._at(as_of, include_outdated).ask_stream(question, city_list(cities), mode,
                                                                layered=not only_place)

    def follow_up(self, message: str, previous=None, cities: list[str] | None = None):
        """The question a chat turn asks: "那长沙呢？" after a question about 青岛 asks it about 长沙; a question
        naming no city keeps the previous turn's cities. Returns a `Turn` (remember it as the next `previous`)."""
        return resolve(message, previous, self.cities, city_list(cities))

    def compare(self, question_or_topic: str, cities: list[str] | None = None, only_place: bool = False,
                as_of=None, include_outdated: bool = False) -> Comparison:
        """The same question (or catalogue topic) answered per city: each city's governing clauses (its own and,
        unless `only_place`, those of the places above it, labelled), quoted verbatim with their key figures,
        or an explicit 未作规定 (versions as for `ask`)."""
        question = self._check(question_or_topic)
        return self._at(as_of, include_outdated).compare(question, city_list(cities), layered=not only_place)

    def compare_matrix(self, cities: list[str] | None = None, as_of=None, include_outdated: bool = False) -> Matrix:
        """Every catalogue topic × every city (versions as for `ask`)."""
        return self._at(as_of, include_outdated).compare_matrix(city_list(cities))

    # ------------------------------------------------------------ charters (no index needed)
    @cached_property
    def charter_book(self) -> RequirementBook:
        """Curated requirements of `corpus/requirements.json`, quotes verified against the corpus, each checked
        against the version of its source in force today (a changed or removed source clause: 需复核)."""
        return load_book(self.settings.corpus_dir)

    def check_charter(self, text: str, city: str, group_type: str | None = None) -> CharterReport:
        """Check a draft charter's text against the requirements of `city` (and its group type)."""
        return check_charter(self.charter_book, text, city, group_type)

    def charter_skeleton(self, city: str, group_type: str | None = None) -> Skeleton:
        """A charter outline covering every requirement, each article annotated with its clause."""
        return build_skeleton(self.charter_book, city, group_type)

    def charter_requirements(self, city: str, group_type: str | None = None) -> tuple[Requirement, ...]:
        return self.charter_scope(city, group_type).requirements

    def charter_scope(self, city: str, group_type: str | None = None):
        """The requirements that apply to `city` (and its group type), with notices about how they were chosen."""
        return scope_for(self.charter_book, city, group_type)

    @staticmethod
    def read_draft(path: str | Path) -> str:
        """A draft charter's text from a TXT, MD or DOCX file."""
        return read_draft(path)

    @staticmethod
    def write_skeleton(skeleton: Skeleton, path: str | Path) -> Path:
        """Save a charter outline as Markdown or Word (by the file's extension)."""
        return write_skeleton(skeleton, path)

    # ------------------------------------------------------------ evaluation
    @classmethod
    def evaluate_laws(cls, work_dir: Path, laws_dir: Path | None = None, progress=None,
                      eval_dir: Path | None = None) -> tuple[dict, list[dict]]:
        """A laws split (`eval_dir`, default eval/laws/): real regulations read from `laws_dir` (default
        ../shared/laws) imported beside the bundled corpus into `work_dir` (reused between runs), its questions
        answered with the layers of government. Returns (metrics, the items to look at)."""
        from assistant.evaluation.laws import DEFAULT_LAWS_DIR, LAWS_EVAL, failures, run_laws

        metrics, results = run_laws(lambda corpus, index: cls(corpus_dir=corpus, index_dir=index), Path(work_dir),
                                    Path(laws_dir) if laws_dir else DEFAULT_LAWS_DIR,
                                    Path(eval_dir) if eval_dir else LAWS_EVAL, progress=progress)
        return metrics, failures(results)

    def evaluate(self, gold, runs_dir: Path, thresholds: Path | None = None, naive: bool = True,
                 mode: str | None = None, progress=None):
        """Run the gold set(s) in `gold` (a file, several, or None for the default sets), write a run
        directory, and check the thresholds (see eval/)."""
        from assistant.evaluation.session import evaluate

        return evaluate(self, gold, runs_dir, thresholds, naive, mode, progress)

    def train_ranker(self, gold=None, laws_dir: Path | None = None) -> dict:
        """Learn the second ranking stage's weights from the gold sets' development items, and from the laws
        development split's when the laws folder (`laws_dir`, default ../shared/laws) is there."""
        from assistant.evaluation.session import train_ranker

        return train_ranker(self, gold, self._laws_training(laws_dir))

    def rotation(self, gold=None, only: list[str] | None = None, laws_dir: Path | None = None,
                 laws_training: bool = True, progress=None) -> tuple[list, dict]:
        """Each development split answered by weights trained on the others (and on the laws development split
        unless `laws_training` is off); the shipped weights are left as they are. Returns (per-item results,
        pooled and per-split metrics)."""
        from assistant.evaluation.rotation import rotate, summary
        from assistant.evaluation.run import GOLD_FILES, load_gold

        gold = gold or [PROJECT_ROOT / "eval" / name for name in GOLD_FILES]
        extra = self._laws_training(laws_dir) if laws_training else ()
        results = rotate(self.open(), load_gold(gold), only, progress=progress, extra=extra)
        return results, summary(results)

    def _laws_training(self, laws_dir: Path | None) -> tuple:
        """The laws development split, imported beside the bundled corpus under the data directory (reused)."""
        from assistant.evaluation.laws import DEFAULT_LAWS_DIR, training_sets

        make = lambda corpus, index: type(self)(corpus_dir=corpus, index_dir=index)  # noqa: E731
        return tuple(training_sets(make, Path(self.settings.data_dir),
                                   Path(laws_dir) if laws_dir else DEFAULT_LAWS_DIR))

    def suggest_requirements(self, doc_id: str) -> list[Candidate]:
        """Obligation-like sentences of a document, for a person to confirm as requirements."""
        return suggest(self.charter_book, doc_id)

    # ---- web (issue 18)
    def corpus_hash(self) -> str | None:
        """The corpus the current index was built from: stored with feedback, to know what an answer saw."""
        return self.snapshot.manifest.get("corpus_hash")

    @staticmethod
    def resume(question: str, cities) -> Turn:
        """The follow-up context of a reopened conversation: its last question and the cities it answered."""
        return Turn(question, tuple(cities or ()))

    @staticmethod
    def last_evaluation(runs_dir: Path, before: str | None = None) -> dict | None:
        """The newest run in `runs_dir` (older than run `before`): {"name", "metrics", "items", "seconds",
        "mode"}, or None."""
        from assistant.evaluation.report import last_run

        return last_run(runs_dir, before)

    @staticmethod
    def write_charter_report(report: CharterReport, path: str | Path) -> Path:
        """Save a charter check report as Markdown or Word (by the file's extension), requirement ids included."""
        return write_report(report, path)

    # ---- batch import (issue 15)
    def ingest_many(self, sources, overrides: dict | None = None, progress=None, on_file=None) -> BatchReport:
        """Import many files (paths, folders searched recursively, or uploads as (bytes, file name)), each in
        its own transaction: a file that fails, or whose place or title its text does not state, is reported
        and the rest go on.
        `overrides` (city, issuer, status, dates …) apply to every file. `on_file(done, total, path, result)`
        is called before each file (result None) and after it; `progress(done, total)` while one embeds."""
        try:
            return batch.ingest_many(self.library, sources, self._apply, overrides, progress, on_file)
        finally:
            self._changed()

    @staticmethod
    def files_to_import(sources) -> list[tuple[str, str | None]]:
        """(path, why it cannot be imported or None) for each file `ingest_many` would import."""
        return batch.expand(sources)


def _day(on) -> str | None:
    return parse_day(on) if on else None
