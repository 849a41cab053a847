"""Command line: `policy-assistant ask|retrieve|index build|ingest|docs|serve` (also `python -m assistant`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.interfaces.cli import charter as charter_cli
from assistant.errors import AssistantError, QuestionError
from assistant.domain.values import Answer, Citation, status_label

EXAMPLES = """示例：
  policy-assistant ask "长沙集团化办学的合作期限是多久？"
  policy-assistant ask "成员校能提前退出集团吗？" --city 青岛市 --json
  policy-assistant ask "成员校能提前退出集团吗？" --mode llm
  policy-assistant retrieve "教师交流轮岗" -k 3 --city 南昌市
  policy-assistant index build --rebuild
  policy-assistant compare "各地对成员校退出有什么不同规定？" --csv
  policy-assistant compare --matrix --markdown
  policy-assistant eval --check
  policy-assistant ingest 株洲集团化办学实施方案.pdf --city 株洲市
  policy-assistant docs list
  policy-assistant serve --port 7860
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policy-assistant", description="集团化办学政策助手：检索条款并给出带出处的回答。",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    ask = sub.add_parser("ask", help="提问，返回引用原文条款的回答")
    ask.add_argument("question", help="问题（中文）")
    ask.add_argument("--city", action="append", help="只在该城市/区的文件中查找，可重复")
    ask.add_argument("--json", action="store_true", help="输出 JSON")
    ask.add_argument("--mode", choices=("llm", "extractive"), default=None,
                     help="llm：大模型生成并核对引用；extractive：摘录原文（默认：已配置大模型时为 llm）")

    retrieve = sub.add_parser("retrieve", help="只检索条款，不组织回答")
    retrieve.add_argument("question")
    retrieve.add_argument("-k", type=int, default=5, help="返回条款数（默认 5）")
    retrieve.add_argument("--city", action="append")
    retrieve.add_argument("--json", action="store_true")

    index = sub.add_parser("index", help="索引管理")
    index_sub = index.add_subparsers(dest="index_command", required=True, metavar="子命令")
    build = index_sub.add_parser("build", help="从 corpus/ 构建或更新索引")
    build.add_argument("--rebuild", action="store_true", help="删除现有索引后完整重建（保留嵌入缓存）")

    compare = sub.add_parser("compare", help="跨城市对比：同一问题或主题按城市并列")
    compare.add_argument("question", nargs="?", help="问题或主题（如“退出与终止”）；与 --matrix 二选一")
    compare.add_argument("--city", action="append", help="参与对比的城市，可重复（默认：问题中的城市或全部城市）")
    compare.add_argument("--matrix", action="store_true", help="全部主题 × 全部城市的总览表")
    compare.add_argument("--topics", action="store_true", help="列出主题目录")
    fmt = compare.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="输出 JSON")
    fmt.add_argument("--markdown", action="store_true", help="输出 Markdown 表格（默认）")
    fmt.add_argument("--csv", action="store_true", help="输出 CSV")

    evaluate = sub.add_parser("eval", help="在评测集上评测检索、引用与拒答，写出报告")
    evaluate.add_argument("--gold", default=None, help="评测集 JSONL（默认 eval/gold.jsonl）")
    evaluate.add_argument("--runs-dir", default=None, help="报告目录（默认 eval/runs）")
    evaluate.add_argument("--thresholds", default=None, help="阈值文件（默认 eval/thresholds.toml）")
    evaluate.add_argument("--check", action="store_true", help="任一指标低于阈值时以退出码 1 结束")
    evaluate.add_argument("--no-baseline", action="store_true", help="不评测朴素基线（更快）")
    evaluate.add_argument("--mode", choices=["extractive", "llm"], default=None,
                          help="回答模式（默认：已配置大模型时为 llm，否则为 extractive）")
    evaluate.add_argument("--json", action="store_true", help="输出 JSON 指标")
    ingest = sub.add_parser(
        "ingest", help="导入 PDF/DOCX/TXT/MD 政策文件（自动识别标题、城市、文号等，可用选项覆盖）",
        description="导入政策文件：提取文字和元数据，写入 corpus/ 并增量更新索引。同一文件重复导入不会产生重复条款；"
                    "同一城市、同一文号或标题的新版本会替换旧版本。")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="PDF、DOCX、TXT 或 MD 文件")
    ingest.add_argument("--city", help="所属城市/区县，如 长沙市、郑州市中原区")
    ingest.add_argument("--title", help="文件标题")
    ingest.add_argument("--short-title", help="简称")
    ingest.add_argument("--issuer", help="发文机关")
    ingest.add_argument("--doc-number", help="文号，如 长教通〔2020〕97号")
    ingest.add_argument("--date", help="成文日期，如 2020-12-08")
    ingest.add_argument("--status", help="official（正式文件）、draft（征求意见稿）或 interpretation（政策解读）")
    ingest.add_argument("--replace", metavar="ID", help="作为新版本替换语料中的这份文档")
    ingest.add_argument("--dry-run", action="store_true", help="只显示识别结果，不写入")
    ingest.add_argument("--json", action="store_true")

    docs = sub.add_parser("docs", help="查看或删除语料中的文档")
    docs_sub = docs.add_subparsers(dest="docs_command", required=True, metavar="子命令")
    docs_list = docs_sub.add_parser("list", help="列出全部文档")
    docs_list.add_argument("--json", action="store_true")
    show = docs_sub.add_parser("show", help="显示一份文档的元数据和条款结构")
    show.add_argument("doc_id", metavar="ID")
    show.add_argument("--text", action="store_true", help="同时输出全文")
    show.add_argument("--json", action="store_true")
    remove = docs_sub.add_parser("remove", help="从语料和索引中删除一份文档")
    remove.add_argument("doc_id", metavar="ID")

    serve = sub.add_parser("serve", help="启动网页应用（默认 127.0.0.1）")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)

    charter_cli.add_parser(sub)
    return parser


def format_citation(c: Citation) -> str:
    number = f" {c.doc_number}" if c.doc_number else ""
    badge = "" if c.status == "official" else f" 【{status_label(c.status)}】"
    return f"[{c.n}] {c.city}｜《{c.title}》{number}{badge}\n    {c.clause}\n    {c.text}"


def format_answer(answer: Answer) -> str:
    return "\n\n".join(p for p in (answer.answer, format_details(answer)) if p)


def format_details(answer: Answer) -> str:
    parts = []
    if answer.notices:
        parts.append("\n".join(f"提示：{n}" for n in answer.notices))
    if answer.citations:
        parts.append("引用条款：\n" + "\n\n".join(format_citation(c) for c in answer.citations))
    return "\n\n".join(parts)


def print_stream(items) -> Answer | None:
    """Print a model's draft as it arrives, then the checked answer (again, if the checks changed it)."""
    draft = ""
    for item in items:
        if isinstance(item, Answer):
            if not draft:
                print(format_answer(item))
            elif item.answer == draft.strip():
                print("\n\n" + format_details(item))
            else:
                print("\n\n——核对后的回答——\n" + format_answer(item))
            return item
        draft += item
        print(item, end="", flush=True)
    return None


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _progress(done: int, total: int) -> None:
    print(f"\r正在嵌入条款 {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


_OVERRIDES = ("city", "title", "short_title", "issuer", "doc_number", "date", "status")


def _library():
    from assistant.config import Settings
    from assistant.index.embedders import make_embedder
    from assistant.corpus.library import Library
    from assistant.index.store import IndexStore

    settings = Settings.from_env()
    return Library(settings, IndexStore(settings, make_embedder(settings.embedder, settings.embed_threads)))


def _meta_lines(meta: dict) -> list[str]:
    labels = (("title", "标题"), ("short_title", "简称"), ("city", "城市"), ("issuer", "发文机关"),
              ("doc_number", "文号"), ("date", "日期"))
    lines = [f"  {label}：{meta.get(key) or '（未识别）'}" for key, label in labels]
    lines.append(f"  状态：{status_label(meta.get('status') or 'official')}")
    return lines


def _ingest(args: argparse.Namespace) -> int:
    overrides = {k: getattr(args, k) for k in _OVERRIDES if getattr(args, k) is not None}
    if len(args.paths) > 1 and ({"title", "short_title", "doc_number"} & set(overrides) or args.replace):
        raise AssistantError("--title、--short-title、--doc-number 和 --replace 只能用于单个文件")
    library = _library()
    failures, results = 0, []
    for path in args.paths:
        try:
            if args.dry_run:
                preview = library.preview(path, overrides=overrides, replace_id=args.replace)
                results.append({"path": path, **preview.to_dict()})
                if not args.json:
                    _print_preview(path, preview)
                continue
            report = library.add(path, overrides=overrides, replace_id=args.replace, progress=_progress)
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
        _print_json(results)
    return 2 if failures else 0


def _display(path: str) -> str:
    from assistant.corpus.library import safe_name

    return safe_name(path)


def _print_preview(path: str, preview) -> None:
    actions = {"add": "新增", "replace": f"替换 {preview.replaces}", "update": "更新元数据",
               "unchanged": "已在语料中，无需导入"}
    print(f"预览（未写入）：{_display(path)} → {preview.doc_id}（{actions[preview.action]}）")
    print("\n".join(_meta_lines(preview.metadata.to_dict())))
    print(f"  条款：{len(preview.clauses)} 个；文字 {preview.characters} 字" +
          (f"；{preview.pages} 页" if preview.pages else ""))
    for warning in preview.warnings:
        print(f"提示：{warning}")
    if preview.missing:
        names = {"city": "--city", "title": "--title"}
        print("需要补充：" + "、".join(names[m] for m in preview.missing))


def _print_report(report) -> None:
    what = f"《{report.title}》（{report.city}，{status_label(report.status)}）"
    if report.action == "unchanged":
        print(f"未变化：{what}已在语料中（{report.doc_id}），未重复导入")
    else:
        verb = {"added": "已导入", "replaced": "已替换为新版本", "updated": "已更新元数据"}[report.action]
        print(f"{verb}：{what} → {report.doc_id}：{report.clauses} 个条款，新嵌入 {report.embedded} 个，"
              f"索引新增 {report.added}、删除 {report.removed}，用时 {report.seconds:.1f} 秒")
    for warning in report.warnings:
        print(f"提示：{warning}")


def _docs(args: argparse.Namespace) -> int:
    library = _library()
    if args.docs_command == "list":
        documents = library.documents()
        if args.json:
            _print_json([d.to_dict() for d in documents])
            return 0
        for d in documents:
            chunks = "未建索引" if d.chunks is None else f"{d.chunks} 个条款"
            origin = "导入" if d.ingested else "内置"
            print(f"{d.doc_id}｜{d.city}｜{status_label(d.status)}｜《{d.title}》｜{chunks}｜{origin}")
        return 0
    if args.docs_command == "show":
        info = library.document(args.doc_id)
        clauses = library.clauses(args.doc_id)
        if args.json:
            data = info.to_dict()
            data["clauses"] = [{"chunk_id": c.chunk_id, "clause": c.clause, "text": c.text} for c in clauses]
            if args.text:
                data["text"] = library.text(args.doc_id)
            _print_json(data)
            return 0
        print(f"{info.doc_id}")
        print("\n".join(_meta_lines(info.to_dict())))
        source = f"{info.source}（原文件名：{info.original_name}）" if info.original_name else info.source
        print(f"  文本：{info.file}\n  来源：{source or '（无）'}")
        print(f"  条款（{len(clauses)} 个）：")
        for i, c in enumerate(clauses, start=1):
            print(f"    {i}. {c.clause}（{len(c.text)} 字）")
        if args.text:
            print("\n" + library.text(args.doc_id))
        return 0
    report = library.remove(args.doc_id, progress=_progress)
    print(f"已删除：《{report.title}》（{report.doc_id}），索引中移除 {report.removed} 个条款")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.command == "charter":  # pure logic over corpus/requirements.json: no index, no model
        return charter_cli.run(args)
    if args.command == "serve":
        from assistant.interfaces.web.app import main as serve_app

        serve_app(host=args.host, port=args.port)
        return 0
    if args.command == "index":
        from assistant.config import Settings
        from assistant.corpus.manifest import load_corpus
        from assistant.index.embedders import make_embedder
        from assistant.index.store import IndexStore

        from assistant.corpus.library import Library

        settings = Settings.from_env()
        store = IndexStore(settings, make_embedder(settings.embedder, settings.embed_threads))
        Library(settings, store).recover()  # files left by an ingest that was killed
        report = store.build(load_corpus(settings.corpus_dir), rebuild=args.rebuild, progress=_progress)
        print(f"索引已就绪：{report.chunks} 个条款，新嵌入 {report.embedded} 个，"
              f"新增 {report.added}、删除 {report.removed}，用时 {report.seconds:.1f} 秒（{settings.index_dir}）")
        return 0

    if args.command == "compare" and args.topics:
        from assistant.domain.topics import TOPICS

        print("\n".join(f"{t.label}（{t.key}）：{t.description}" for t in TOPICS))
        return 0
    if args.command == "ingest":
        return _ingest(args)
    if args.command == "docs":
        return _docs(args)

    from assistant.interfaces.facade import Assistant

    assistant = Assistant(progress=_progress)
    if args.command == "compare":
        return run_compare_command(assistant, args)
    if args.command == "eval":
        return run_eval_command(assistant, args)
    if args.command == "ask":
        if args.json:
            _print_json(assistant.ask(args.question, cities=args.city, mode=args.mode).to_dict())
        else:
            print_stream(assistant.ask_stream(args.question, cities=args.city, mode=args.mode))
    elif args.command == "retrieve":
        citations = assistant.retrieve(args.question, k=args.k, cities=args.city)
        if args.json:
            _print_json([c.to_dict() for c in citations])
        else:
            print("\n\n".join(format_citation(c) for c in citations) or "没有检索到条款。")
    return 0


def run_compare_command(assistant, args: argparse.Namespace) -> int:
    if args.matrix:
        result = assistant.compare_matrix(cities=args.city)
    elif args.question:
        result = assistant.compare(args.question, cities=args.city)
    else:
        raise QuestionError("请给出要对比的问题或主题，或使用 --matrix 查看全部主题。")
    if args.json:
        _print_json(result.to_dict())
    elif args.csv:
        sys.stdout.write(result.to_csv())
    else:
        print(result.to_markdown())
    return 0


def _eval_progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    print(f"\r评测中 [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def run_eval_command(assistant, args: argparse.Namespace) -> int:
    from assistant.evaluation.run import load_gold, run_eval
    from assistant.evaluation.report import check_thresholds, comparison_table, load_thresholds, previous_metrics, write_run

    from assistant.config import PROJECT_ROOT as root

    gold = load_gold(Path(args.gold) if args.gold else root / "eval" / "gold.jsonl")
    runs_dir = Path(args.runs_dir) if args.runs_dir else root / "eval" / "runs"
    thresholds_path = Path(args.thresholds) if args.thresholds else root / "eval" / "thresholds.toml"
    run = run_eval(assistant, gold, naive=not args.no_baseline, mode=args.mode, progress=_eval_progress)
    previous = previous_metrics(runs_dir, runs_dir / "-")
    out = write_run(run, runs_dir)
    failures = check_thresholds(run, load_thresholds(thresholds_path)) if thresholds_path.exists() else []
    if args.json:
        _print_json({"run_dir": str(out), "metrics": run.metrics, "config": run.config,
                     "gate_failures": [str(f) for f in failures]})
    else:
        print(comparison_table(run, previous))
        print(f"\n报告：{out / 'summary.md'}\n图表：{out / 'chart.png'}")
        if failures:
            print("\n未达阈值：\n" + "\n".join(f"  {f}" for f in failures))
        elif thresholds_path.exists():
            print(f"\n全部指标达到阈值（{thresholds_path.name}）。")
    return 1 if failures and args.check else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except AssistantError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
    except Exception as exc:  # last resort: one line, never a traceback
        print(f"内部错误：{exc.__class__.__name__}: {str(exc)[:200]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
