"""`index build`, `ingest` and `docs`: the corpus and its index, through the facade."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.domain.divisions import LEVEL_LABELS
from assistant.domain.versions import version_date
from assistant.domain.values import IMPORT_OUTCOME_LABELS, OCR_LABEL, VALIDITY_LABELS, status_label
from assistant.errors import AssistantError
from assistant.interfaces.cli.common import FileBar, assistant, opened, print_json, progress, say


_OVERRIDES = ("city", "title", "short_title", "issuer", "doc_number", "date", "status", "adopted_date",
              "effective_date", "expiry_date", "validity")


def run_index(args: argparse.Namespace) -> int:
    a = assistant()
    if args.index_command == "seed-cache":
        path, count = a.write_seed_cache()
        print(f"已写入 {count} 个向量：{path}")
        return 0
    status = a.status()
    if status.needs_recovery:
        say(f"恢复中：{status.recovery()}……")
    report = a.build_index(rebuild=args.rebuild, progress=progress)
    print(f"索引已就绪：{report.chunks} 个条款，新嵌入 {report.embedded} 个，"
          f"新增 {report.added}、删除 {report.removed}，用时 {report.seconds:.1f} 秒（{a.settings.index_dir}）")
    return 0


def _meta_lines(meta: dict) -> list[str]:
    labels = (("title", "标题"), ("short_title", "简称"), ("city", "地方"), ("issuer", "发文机关"),
              ("doc_number", "文号"), ("date", "日期"), ("adopted_date", "通过/印发日期"), ("effective_date", "施行日期"))
    if meta.get("expiry_date"):
        labels += (("expiry_date", "失效日期"),)
    lines = [f"  {label}：{meta.get(key) or '（未识别）'}" for key, label in labels]
    if meta.get("city"):
        lines[2] += f"（{_layer(meta)}）"
    lines.append(f"  状态：{status_label(meta.get('status') or 'official')}"
                 + (f"；{VALIDITY_LABELS[meta['validity']]}" if meta.get("validity") in VALIDITY_LABELS else ""))
    if meta.get("force_label"):
        lines.append(f"  效力：{meta['force_label']}")
    if meta.get("history"):
        lines.append(f"  沿革：{'；'.join(meta['history'])}")
    for key, label in (("supersedes", "上一版本"), ("superseded_by", "下一版本")):
        if meta.get(key):
            lines.append(f"  {label}：{meta[key]}")
    return lines


def _layer(meta: dict) -> str:
    """'市级，370200', or why there is none."""
    if not meta.get("level"):
        return "行政区划表中没有，不分级"
    return f"{LEVEL_LABELS[meta['level']]}，{meta.get('place_code')}"


def _is_batch(paths: list[str]) -> bool:
    return len(paths) > 1 or any(Path(p).is_dir() for p in paths)


def run_ingest(args: argparse.Namespace) -> int:
    overrides = {k: getattr(args, k) for k in _OVERRIDES if getattr(args, k) is not None}
    if _is_batch(args.paths) and (args.replace or args.supersedes):
        raise AssistantError("--replace 和 --supersedes 只能用于单个文件")
    a = assistant() if args.dry_run else opened()  # a preview needs no index
    if _is_batch(args.paths) and not args.dry_run:
        return _run_batch(a, args, overrides)
    failures, results = 0, []
    for path in ([p for p, _ in a.files_to_import(args.paths)] if args.dry_run else args.paths):
        try:
            if args.dry_run:
                preview = a.preview(path, overrides=overrides, replace=args.replace, progress=progress,
                                    supersedes=args.supersedes)
                results.append({"path": path, **preview.to_dict()})
                if not args.json:
                    _print_preview(path, preview)
                continue
            report = a.ingest(path, overrides=overrides, replace=args.replace, progress=progress,
                              supersedes=args.supersedes)
            results.append({"path": path, **report.to_dict()})
            if not args.json:
                _print_report(report)
        except AssistantError as exc:
            failures += 1
            results.append({"path": path, "error": str(exc)})
            print(f"错误：{_display(path)}：{exc}", file=sys.stderr)
    if args.json:
        for r in results:
            r.pop("text", None)
        print_json(results)
    return 2 if failures else 0


def _run_batch(a, args: argparse.Namespace, overrides: dict) -> int:
    """Many files: a bar over the files on stderr, a line per file as it is done, then the summary table."""
    bar = FileBar()
    try:
        report = a.ingest_many(args.paths, overrides, progress=bar.embedding,
                               on_file=lambda done, total, path, result: _file_done(bar, args, done, total, path,
                                                                                   result))
    finally:
        bar.close()
    if args.json:
        print_json([r.to_dict() for r in report.results])
    else:
        print("\n".join(summary_lines(report)))
    return 0 if report.ok else 2


def _file_done(bar, args, done: int, total: int, path: str, result) -> None:
    bar.file(done, total, _display(path))
    if result is None or args.json:
        return
    if result.report is not None:
        bar.write(_report_line(result.report))
    else:
        bar.write(f"错误：{_display(path)}：{result.reason}", err=True)


def summary_lines(report) -> list[str]:
    """The batch as a table: counts per outcome, then one row per file with its place and layer or why not."""
    counts = report.counts()
    lines = ["", f"导入汇总：{len(report.results)} 个文件，用时 {report.seconds:.1f} 秒",
             "  " + "｜".join(f"{IMPORT_OUTCOME_LABELS[k]} {n}" for k, n in counts.items()),
             "  结果｜文件｜标题｜地方（级别）｜条款｜说明"]
    for r in report.results:
        p = r.report
        place = f"{p.city}（{LEVEL_LABELS.get(p.level, '不分级')}）" if p else "—"
        clauses = f"{p.clauses}" if p else "—"
        title = f"《{p.title}》" if p else "—"
        lines.append(f"  {r.label}｜{_display(r.path)}｜{title}｜{place}｜{clauses}｜{r.reason or '—'}")
    return lines


def _display(path: str) -> str:
    from assistant.domain.markup import safe_name

    return safe_name(path)


def _print_preview(path: str, preview) -> None:
    actions = {"add": "新增", "replace": f"替换 {preview.replaces}", "update": "更新元数据",
               "unchanged": "已在语料中，无需导入", "version": _version_action(preview)}
    print(f"预览（未写入）：{_display(path)} → {preview.doc_id}（{actions[preview.action]}）")
    print("\n".join(_meta_lines(preview.metadata.to_dict())))
    print(f"  条款：{len(preview.clauses)} 个；文字 {preview.characters} 字" +
          (f"；{preview.pages} 页" if preview.pages else ""))
    if preview.ocr:
        print("  " + ocr_line(preview.ocr))
    if preview.lineage:
        print(f"  版本关系：{preview.lineage}")
    for warning in preview.warnings:
        print(f"提示：{warning}")
    if preview.missing:
        names = {"city": "--city", "title": "--title"}
        print("需要补充：" + "、".join(names[m] for m in preview.missing))


def ocr_line(ocr: dict) -> str:
    line = f"文字来源：{OCR_LABEL}（{ocr['pages']} 页，置信度 {ocr['confidence']:.2f}）"
    if ocr.get("low_confidence_pages"):
        line += f"；置信度过低未导入的页：{'、'.join(str(p) for p in ocr['low_confidence_pages'])}"
    return line


def _report_line(report) -> str:
    what = f"《{report.title}》（{report.city}，{status_label(report.status)}）"
    if report.action == "unchanged":
        line = f"未变化：{what}已在语料中（{report.doc_id}），未重复导入"
    else:
        verb = {"added": "已导入", "versioned": "已作为新版本导入", "replaced": "已替换为新版本",
                "updated": "已更新元数据"}[report.action]
        line = (f"{verb}：{what} → {report.doc_id}：{report.clauses} 个条款，新嵌入 {report.embedded} 个，"
                f"索引新增 {report.added}、删除 {report.removed}，用时 {report.seconds:.1f} 秒")
    extra = [ocr_line(report.ocr)] if report.ocr else []
    if report.action == "versioned":
        extra += [_lineage_line(report.supersedes, report.superseded_by)]
    return "\n".join([line, *extra, *(f"提示：{w}" for w in report.warnings)])


def _print_report(report) -> None:
    print(_report_line(report))


def _version_action(preview) -> str:
    return "新版本；" + _lineage_line(preview.supersedes, preview.superseded_by)


def _lineage_line(supersedes: str | None, superseded_by: str | None) -> str:
    parts = []
    if supersedes:
        parts.append(f"取代 {supersedes}（旧版本保留，标为已修正）")
    if superseded_by:
        parts.append(f"早于已有的新版本 {superseded_by}")
    return "版本：" + "；".join(parts)


def run_docs(args: argparse.Namespace) -> int:
    a = opened() if args.docs_command in ("remove", "link") else assistant()
    if args.docs_command == "diff":
        return _run_diff(a, args)
    if args.docs_command == "link":
        info = a.set_supersedes(args.doc_id, None if args.none else args.supersedes, progress=progress)
        print(f"已更新版本关系：《{info.title}》（{info.doc_id}）"
              + (f"取代 {info.supersedes}" if info.supersedes else "没有上一版本") + f"；效力：{info.to_dict()['force_label']}")
        return 0
    if args.docs_command == "list":  # reads the committed index as it is: builds and recovers nothing
        documents = a.list_documents(on=args.as_of)
        status = a.status()
        if not status.ready:
            say(f"索引状态：{status.summary()}")
        if args.json:
            print_json([d.to_dict() for d in documents])
            return 0
        for d in documents:
            chunks = "未建索引" if d.chunks is None else f"{d.chunks} 个条款"
            origin = ("导入" if d.ingested else "内置") + (f"（{OCR_LABEL}）" if d.ocr else "")
            level = LEVEL_LABELS.get(d.level, "不分级")
            print(f"{d.doc_id}｜{d.city}（{level}）｜{status_label(d.status)}｜{_force(d)}｜《{d.title}》｜{chunks}｜"
                  f"{origin}{_links(d)}")
        return 0
    if args.docs_command == "show":
        info = a.document(args.doc_id)
        versions = a.versions(args.doc_id)
        clauses = a.document_outline(args.doc_id)
        if args.json:
            data = info.to_dict()
            data["clauses"] = [{"chunk_id": c.chunk_id, "clause": c.clause, "text": c.text} for c in clauses]
            if args.text:
                data["text"] = a.document_source_text(args.doc_id)
            data["versions"] = [_version_dict(v) for v in versions]
            print_json(data)
            return 0
        print(f"{info.doc_id}")
        print("\n".join(_meta_lines(info.to_dict())))
        source = f"{info.source}（原文件名：{info.original_name}）" if info.original_name else info.source
        print(f"  文本：{info.file}\n  来源：{source or '（无）'}")
        if info.ocr:
            print("  " + ocr_line(info.ocr))
        if len(versions) > 1:
            print("  版本（从旧到新）：")
            for v in versions:
                mark = "  ← 本文档" if v.doc_id == info.doc_id else ""
                print(f"    {v.doc_id}｜{_when(v)}｜{v.to_dict()['force_label']}｜《{v.title}》{mark}")
        print(f"  条款（{len(clauses)} 个）：")
        for i, c in enumerate(clauses, start=1):
            print(f"    {i}. {c.clause}（{len(c.text)} 字）")
        if args.text:
            print("\n" + a.document_source_text(args.doc_id))
        return 0
    report = a.remove_document(args.doc_id, progress=progress)
    print(f"已删除：《{report.title}》（{report.doc_id}），索引中移除 {report.removed} 个条款")
    return 0


def _force(d) -> str:
    """The document's standing with its date: 现行有效（2021-01-01 施行）."""
    label = d.to_dict()["force_label"]
    return f"{label}（{_when(d)}）" if _when(d) != "日期不详" else label


def _when(d) -> str:
    """The version's date as the document states it: 2024-01-01 施行, 2017-09-01 通过/修正, or its date."""
    when = version_date(d.to_dict())
    if not when:
        return "日期不详"
    return f"{when} 施行" if when == d.effective_date else f"{when} 通过/修正" if when == d.adopted_date else when


def _links(d) -> str:
    parts = [f"取代 {d.supersedes}" if d.supersedes else "", f"被 {d.superseded_by} 取代" if d.superseded_by else ""]
    return "".join(f"｜{p}" for p in parts if p)


def _version_dict(v) -> dict:
    d = v.to_dict()
    return {k: d[k] for k in ("doc_id", "title", "status", "effective_date", "adopted_date", "date", "force",
                              "force_label", "supersedes", "superseded_by")}


def _run_diff(a, args: argparse.Namespace) -> int:
    diff = a.diff(args.old, args.new)
    if args.docx:
        path = a.write_diff(diff, args.docx)
        print(f"已保存版本对比：{path}（{diff.summary()}）")
    elif args.json:
        print_json(diff.to_dict())
    else:
        print(diff.to_markdown())
    return 0
