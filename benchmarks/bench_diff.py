"""Clause-level diff time on real regulations in several dated versions.

`python benchmarks/bench_diff.py` finds every regulation under ../shared/laws/ (LawRefBook Markdown, read in
place, never copied) stored in two or more dated versions (`名称(YYYY-MM-DD).md`), takes the largest pair of
consecutive versions by characters, and prints how long `chunking.diff.diff_texts` (articles cut from both
texts, aligned, changed characters marked) takes on it: the median of `--runs` runs, with the articles and
the changes found. `--all` also times every consecutive pair and prints the total and the slowest.

`--lineage` imports every version of every such regulation, oldest first, into a copy of the bundled corpus
(index update stubbed out: no embedding) and checks that each regulation's versions form one chain in date
order; files whose place the metadata reader cannot tell, and files that are the same version again (the
same text published twice), are listed apart."""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.chunking.diff import VersionDiff, diff_texts, units  # noqa: E402

LAWS = Path(os.environ.get("ASSISTANT_LAWS_DIR") or ROOT.parent / "shared" / "laws")
_DATED = re.compile(r"^(?P<name>.+)\((?P<day>\d{4}-\d{2}-\d{2})\)\.md$")


def versioned(laws: Path = LAWS) -> list[list[Path]]:
    """The files of every regulation stored in more than one dated version, oldest first."""
    versions: dict[tuple[Path, str], list[tuple[str, Path]]] = defaultdict(list)
    for path in laws.rglob("*.md"):
        m = _DATED.match(path.name)
        if m:
            versions[(path.parent, m.group("name"))].append((m.group("day"), path))
    return sorted([p for _, p in sorted(found)] for found in versions.values() if len(found) > 1)


def version_pairs(laws: Path = LAWS) -> list[tuple[Path, Path]]:
    """Consecutive (older, newer) versions of every regulation stored in more than one version."""
    return sorted(pair for files in versioned(laws) for pair in zip(files, files[1:]))


@dataclass(frozen=True)
class _Built:
    embedded: int = 0
    added: int = 0
    removed: int = 0


def lineage_check() -> None:
    """Import every version of every regulation and check the chains the corpus keeps."""
    from assistant.config import Settings
    from assistant.corpus.library import Library
    from assistant.corpus.lineage import chain
    from assistant.errors import AssistantError

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        library = Library(Settings.from_env(corpus_dir=corpus, index_dir=Path(tmp) / "index"))
        right, same_again, unplaced, wrong = 0, [], [], []
        for files in versioned():
            try:
                ids = [library.add(path, lambda documents, progress: _Built()).doc_id for path in files]
            except AssistantError as exc:
                unplaced.append(f"{files[0].name}: {exc}")
                continue
            found = chain(ids[-1], {e["doc_id"]: e for e in library.entries()})
            if found == list(dict.fromkeys(ids)):
                right += 1
                if len(set(ids)) < len(ids):
                    same_again.append(files[-1].name)
            else:
                wrong.append(f"{files[0].name}: {found}")
    print(f"lineage: {right} of {right + len(wrong)} regulations chained in date order; "
          f"{len(unplaced)} not imported (place not stated)")
    for name in same_again:
        print(f"  same version imported twice, kept once: {name}")
    for line in unplaced + wrong:
        print(f"  {line}")


def _size(pair: tuple[Path, Path]) -> int:
    return sum(p.stat().st_size for p in pair)


def time_pair(old: Path, new: Path, runs: int) -> tuple[float, VersionDiff, int, int]:
    """(median seconds, the diff, articles in old, articles in new)."""
    old_text, new_text = old.read_text(encoding="utf-8"), new.read_text(encoding="utf-8")
    seconds, changes = [], ()
    for _ in range(runs):
        started = time.perf_counter()
        changes = diff_texts(old_text, new_text)
        seconds.append(time.perf_counter() - started)
    diff = VersionDiff({"doc_id": old.name}, {"doc_id": new.name}, changes)
    return statistics.median(seconds), diff, len(units(old_text)), len(units(new_text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs on the largest pair (median reported)")
    parser.add_argument("--all", action="store_true", help="also time every consecutive pair once")
    parser.add_argument("--lineage", action="store_true", help="also import every version and check the chains")
    args = parser.parse_args(argv)
    if not LAWS.is_dir():
        print(f"没有找到 {LAWS}（设置 ASSISTANT_LAWS_DIR 指向 LawRefBook 法规目录），跳过。")
        return 0
    pairs = version_pairs()
    print(f"{len(pairs)} pairs of consecutive versions under {LAWS}")
    old, new = max(pairs, key=_size)
    seconds, diff, n_old, n_new = time_pair(old, new, args.runs)
    chars = sum(len(p.read_text(encoding="utf-8")) for p in (old, new))
    print(f"largest pair: {old.relative_to(LAWS)} → {new.name}")
    print(f"  {chars:,} characters, {n_old} → {n_new} articles; {diff.summary()}")
    print(f"  diff time: median {seconds:.3f} s over {args.runs} runs")
    if args.all:
        timed = []
        for pair in pairs:
            timed.append((time_pair(*pair, 1)[0], pair))
        slowest = max(timed, key=lambda t: t[0])
        print(f"all {len(timed)} pairs: total {sum(t for t, _ in timed):.1f} s; slowest {slowest[0]:.3f} s "
              f"({slowest[1][0].relative_to(LAWS)})")
    if args.lineage:
        lineage_check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
