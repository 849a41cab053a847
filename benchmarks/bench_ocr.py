"""OCR benchmark: a real regulation (浙江省义务教育条例, from ../shared/laws) typeset with reportlab under a red
header, rasterised at 150/200/300 dpi with noise, blur and a slight skew, saved as an image-only PDF and read
back through the ingest path (the bounded subprocess, OCR, re-flow). Prints, per resolution, the character
accuracy against the source text (1 − Levenshtein distance / reference length), pages per second on this
machine, and the mean recognition confidence; then hit@5 of twelve questions on the 200-dpi scan against the
same questions on the text PDF, each ingested into a temporary copy of the corpus with the real embedder.
Prints figures; asserts nothing. Run it under `nice -n 10` on a shared machine.

    python benchmarks/bench_ocr.py [--dpi 150,200,300] [--pages N]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.corpus.extract import Limits, extract  # noqa: E402
from tests.support import scans  # noqa: E402

LAWS = Path(os.environ.get("ASSISTANT_LAWS_DIR") or ROOT.parent / "shared" / "laws")
LAW = "DLC/浙江地方法规/地方性法规/浙江/浙江省义务教育条例(2021-09-30).md"
CITY = "浙江省"
# question → a verbatim phrase of the article that answers it
QUESTIONS = [
    ("浙江省儿童满几周岁应当入学接受义务教育？", "凡年满六周岁的儿童"),
    ("浙江省义务教育学校可以举行入学考试吗？", "不得举行或者变相举行与入学相关的考试"),
    ("浙江省规定学生每天体育锻炼的时间不少于多久？", "每天体育锻炼的时间不少于一小时"),
    ("浙江省教师的平均工资水平有什么保障？", "不低于当地公务员的平均工资水平"),
    ("浙江省学校能否开除违反学校管理制度的学生？", "不得决定退学或者开除"),
    ("浙江省用人单位能招用应当接受义务教育的少年吗？", "禁止用人单位招用应当接受义务教育的适龄儿童"),
    ("浙江省学校能按考试成绩公布学生排名吗？", "不得按照考试成绩公布学生的排名"),
    ("浙江省学校要为学生投保什么保险？", "投保学生意外伤害校方责任保险"),
    ("浙江省残疾适龄儿童能在普通学校就读吗？", "随班就读"),
    ("浙江省能否把学校分为重点学校和非重点学校？", "不得将学校分为重点学校和非重点学校"),
    ("浙江省地方课程使用的教科书由谁审定？", "省级中小学教材审定委员会审定"),
    ("浙江省义务教育经费在财政预算中如何安排？", "在财政预算中将义务教育经费单列"),
]


def source_text(path: Path) -> tuple[str, str]:
    """(title, text): the Markdown's title and articles, one paragraph per line, with the full-width space
    after 第X条 and between 第X章 and its name that printed regulations carry."""
    raw = path.read_text(encoding="utf-8")
    title = raw.split("\n", 1)[0].lstrip("# ").strip()
    body = raw.split("<!-- INFO END -->", 1)[1]
    lines = [re.sub(r"^#+\s*", "", ln).strip() for ln in body.splitlines() if ln.strip()]
    lines = [re.sub(r"^(第[一二三四五六七八九十百零]+[条章])[ \u3000]+", "\\1\u3000", ln) for ln in lines]
    return title, "\n".join([title, *lines])


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions), one numpy row per character of `a`."""
    if not a or not b:
        return len(a) + len(b)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    offsets = np.arange(len(b) + 1)
    row = offsets.copy()
    for i, ch in enumerate(a, start=1):
        cost = (codes_b != ord(ch)).astype(np.int64)
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[1:] + 1, row[:-1] + cost)  # deletion, substitution
        # insertion: best[j] = min over k ≤ j of best[k] + (j − k)
        row = np.minimum.accumulate(best - offsets) + offsets
    return int(row[-1])


def comparable(text: str, nfkc: bool) -> str:
    text = unicodedata.normalize("NFKC", text) if nfkc else text
    return re.sub(r"\s+", "", text)


def accuracy(found: str, reference: str, nfkc: bool = True) -> float:
    ref = comparable(reference, nfkc)
    return 1 - levenshtein(comparable(found, nfkc), ref) / len(ref)


def read(pdf: bytes, limits: Limits) -> tuple[object, float]:
    started = time.perf_counter()
    result = extract(pdf, "scan.pdf", limits)
    return result, time.perf_counter() - started


def hit_at_5(assistant, doc_id: str) -> tuple[int, list[str]]:
    hits, misses = 0, []
    for question, phrase in QUESTIONS:
        found = assistant.retrieve(question, k=5)
        if any(c.doc_id == doc_id and comparable(phrase, True) in comparable(c.text, True) for c in found):
            hits += 1
        else:
            misses.append(question)
    return hits, misses


def corpus(work: Path, name: str, cache: Path | None) -> Settings:
    corpus_dir, index_dir = work / name / "corpus", work / name / "index"
    shutil.copytree(ROOT / "corpus", corpus_dir)
    if cache is not None and cache.exists():
        (index_dir / "cache").mkdir(parents=True)
        shutil.copy(cache, index_dir / "cache" / cache.name)
    return Settings.from_env(corpus_dir=corpus_dir, index_dir=index_dir, ocr_page_seconds=600.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dpi", default="150,200,300")
    parser.add_argument("--pages", type=int, default=0, help="only the first N pages (0: all)")
    args = parser.parse_args()
    path = LAWS / LAW
    if not path.is_file():
        print(f"{path} not found: the OCR benchmark needs ../shared/laws (or ASSISTANT_LAWS_DIR); skipped")
        return
    title, text = source_text(path)
    pdf = scans.typeset(text, red_header="浙江省人民代表大会常务委员会")
    if args.pages:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(pdf)
        kept = pdfium.PdfDocument.new()
        kept.import_pages(doc, list(range(min(args.pages, len(doc)))))
        pdf = _save(kept)
    # a shared machine under load reads a page in well over the default 30 s: the budget is not what is measured
    settings = Settings.from_env(corpus_dir=ROOT / "corpus", index_dir="/nonexistent", ocr_page_seconds=600.0)
    limits = Limits.of(settings)
    typeset = extract(pdf, "text.pdf", limits)
    reference = text if not args.pages else typeset.text  # a page subset is measured against its text layer
    print(f"{title}: {len(comparable(reference, True))} characters, {typeset.pages} A4 pages, "
          f"OCR threads {limits.threads}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"text layer (control): character accuracy {accuracy(typeset.text, reference):.4f}")
    scanned_pdfs = {}
    for dpi in (int(d) for d in args.dpi.split(",")):
        images = [scans.degrade(im, noise=10, blur=0.7 * dpi / 200, skew=0.6, seed=i)
                  for i, im in enumerate(scans.rasterise(pdf, dpi, grey=False))]
        scanned_pdfs[dpi] = scans.image_pdf(images, dpi)
        result, seconds = read(scanned_pdfs[dpi], limits)
        print(f"{dpi} dpi: character accuracy {accuracy(result.text, reference):.4f} "
              f"(exact code points {accuracy(result.text, reference, nfkc=False):.4f}), "
              f"{result.pages / seconds:.3f} pages/s ({seconds:.1f} s for {result.pages} pages, model load included), "
              f"confidence {result.ocr.confidence:.3f}, low-confidence pages {list(result.ocr.low_confidence_pages)}")
    if 200 in scanned_pdfs and not args.pages:
        retrieval(title, pdf, scanned_pdfs[200])


def retrieval(title: str, text_pdf: bytes, scan_pdf: bytes) -> None:
    from assistant.interfaces.facade import Assistant

    work = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    try:
        overrides = {"city": CITY, "title": title}
        text_copy = Assistant(settings=corpus(work, "text", None))
        doc_text = text_copy.ingest(text_pdf, "regulation.pdf", overrides=overrides).doc_id
        scan_copy = Assistant(settings=corpus(work, "scan", work / "text" / "index" / "cache" / "embeddings.sqlite"),
                              embedder=text_copy.embedder)
        doc_scan = scan_copy.ingest(scan_pdf, "regulation-scan.pdf", overrides=overrides).doc_id
        for name, assistant, doc_id in (("text PDF", text_copy, doc_text), ("200-dpi scan", scan_copy, doc_scan)):
            hits, misses = hit_at_5(assistant, doc_id)
            print(f"hit@5 on the {name}: {hits}/{len(QUESTIONS)} = {hits / len(QUESTIONS):.2f}"
                  + (f"; missed: {'；'.join(misses)}" if misses else ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _save(document) -> bytes:
    import io

    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


if __name__ == "__main__":
    main()
