"""Many files at once (a folder, or a list of files and folders), each its own transaction: a file that cannot
be read, or whose place or title the text does not state, is reported and the others are imported all the
same. A folder is searched recursively for the formats `extract` reads; hidden files are skipped. Overrides
such as the city apply to every file; per-document values (title, short title, document number, the
document to replace) only make sense for one file and are refused for several."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

from assistant.corpus.extract import FORMATS
from assistant.corpus.metadata import clean_overrides
from assistant.corpus.plan import IngestReport, MissingFieldError
from assistant.domain.values import IMPORT_OUTCOME_LABELS
from assistant.errors import AssistantError, IngestError

OUTCOMES = tuple(IMPORT_OUTCOME_LABELS)  # imported | unchanged | needs_field | failed
SINGLE_FILE_FIELDS = ("title", "short_title", "doc_number")
_ASK = {"title": "无法识别标题，请单独导入该文件并用 --title 指定",
        "city": "无法识别所属地方，请用 --city 指定（如 --city 长沙市，对本次所有文件生效）"}

# on_file(files done, files in all, the file, its result): before each file (result None) and after it
OnFile = Callable[[int, int, str, "FileResult | None"], None]


@dataclass(frozen=True)
class FileResult:
    path: str
    outcome: str  # imported | unchanged | needs_field | failed
    reason: str = ""  # one line, for every outcome but imported and unchanged
    missing: tuple[str, ...] = ()  # the fields a needs_field file lacks (city, title)
    report: IngestReport | None = None

    @property
    def label(self) -> str:
        return IMPORT_OUTCOME_LABELS[self.outcome]

    def to_dict(self) -> dict:
        out = {"path": self.path, "outcome": self.outcome, "reason": self.reason, "missing": list(self.missing)}
        if self.outcome in ("needs_field", "failed"):
            out["error"] = self.reason
        if self.report is not None:
            out.update(asdict(self.report))
        return out


@dataclass(frozen=True)
class BatchReport:
    results: tuple[FileResult, ...]
    seconds: float

    def counts(self) -> dict[str, int]:
        found = Counter(r.outcome for r in self.results)
        return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}

    @property
    def ok(self) -> bool:
        """Every file is in the corpus (imported now or before)."""
        return all(r.outcome in ("imported", "unchanged") for r in self.results)

    def to_dict(self) -> dict:
        return {"counts": self.counts(), "seconds": self.seconds, "results": [r.to_dict() for r in self.results]}


def expand(sources) -> list[tuple[str, str | None]]:
    """(path, why it cannot be imported or None) for each file: folders become the files in them. An upload
    given as (bytes, file name) stays as it is."""
    out: list = []
    for source in sources:
        if isinstance(source, tuple):
            out.append((source, None))
            continue
        path = Path(source)
        if not path.is_dir():
            out.append((str(path), None))  # a missing or unreadable file fails on its own, with its reason
            continue
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS and p.is_file()
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not found:
            out.append((str(path), f"文件夹中没有可导入的文件（支持：{'、'.join(sorted(set(FORMATS)))}）"))
        out.extend((str(p), None) for p in found)
    return out


def check_overrides(count: int, overrides: Mapping[str, str | None] | None) -> None:
    """Refuse bad overrides once, before any file is touched (rather than once per file)."""
    clean_overrides(overrides)
    given = [k for k in SINGLE_FILE_FIELDS if (overrides or {}).get(k)]
    if count > 1 and given:
        raise IngestError(f"{'、'.join(given)} 只能用于单个文件（这次有 {count} 个文件）")


def ingest_many(library, sources, apply, overrides: Mapping[str, str | None] | None = None, progress=None,
                on_file: OnFile | None = None) -> BatchReport:
    """Import every file of `sources`, one transaction each; a failure is recorded and the next file goes on.
    Ctrl-C stops the batch: files already imported stay, the one being imported is rolled back."""
    started = time.perf_counter()
    files = expand(sources)
    check_overrides(len(files), overrides)
    results: list[FileResult] = []
    for i, (source, problem) in enumerate(files):
        name = source[1] if isinstance(source, tuple) else source
        if on_file:
            on_file(i, len(files), name, None)
        results.append(_one(library, source, problem, apply, overrides, progress))
        if on_file:
            on_file(i + 1, len(files), name, results[-1])
    return BatchReport(tuple(results), time.perf_counter() - started)


def _one(library, source, problem: str | None, apply, overrides, progress) -> FileResult:
    data, name = source if isinstance(source, tuple) else (source, None)
    path = name or str(source)
    if problem:
        return FileResult(path, "failed", problem)
    try:
        report = library.add(data, apply, filename=name, overrides=overrides, progress=progress)
    except MissingFieldError as exc:
        return FileResult(path, "needs_field", "；".join(_ASK[m] for m in exc.missing if m in _ASK), exc.missing)
    except AssistantError as exc:
        return FileResult(path, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 — one broken file must not stop the batch; its transaction rolled back
        return FileResult(path, "failed", f"内部错误：{exc.__class__.__name__}: {str(exc)[:120]}")
    return FileResult(path, "unchanged" if report.action == "unchanged" else "imported", report=report)
