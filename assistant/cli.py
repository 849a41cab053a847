"""Command line: `policy-assistant ask|retrieve|index build|serve` (also `python -m assistant`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import charter_cli
from .errors import AssistantError, QuestionError
from .schema import Answer, Citation, status_label

EXAMPLES = """示例：
  policy-assistant ask "长沙集团化办学的合作期限是多久？"
  policy-assistant ask "成员校能提前退出集团吗？" --city 青岛市 --json
  policy-assistant ask "成员校能提前退出集团吗？" --mode llm
  policy-assistant retrieve "教师交流轮岗" -k 3 --city 南昌市
  policy-assistant index build --rebuild
  policy-assistant compare "各地对成员校退出有什么不同规定？" --csv
  policy-assistant compare --matrix --markdown
  policy-assistant eval --check
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


def run(args: argparse.Namespace) -> int:
    if args.command == "charter":  # pure logic over corpus/requirements.json: no index, no model
        return charter_cli.run(args)
    if args.command == "serve":
        from app import main as serve_app  # the Gradio view lives at the top level

        serve_app(host=args.host, port=args.port)
        return 0
    if args.command == "index":
        from .config import Settings
        from .corpus import load_corpus
        from .embeddings import make_embedder
        from .store import IndexStore

        settings = Settings.from_env()
        store = IndexStore(settings, make_embedder(settings.embedder, settings.embed_threads))
        report = store.build(load_corpus(settings.corpus_dir), rebuild=args.rebuild, progress=_progress)
        print(f"索引已就绪：{report.chunks} 个条款，新嵌入 {report.embedded} 个，"
              f"新增 {report.added}、删除 {report.removed}，用时 {report.seconds:.1f} 秒（{settings.index_dir}）")
        return 0

    if args.command == "compare" and args.topics:
        from .topics import TOPICS

        print("\n".join(f"{t.label}（{t.key}）：{t.description}" for t in TOPICS))
        return 0
    from .api import Assistant

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
    from .evaluate import load_gold, run_eval
    from .report import check_thresholds, comparison_table, load_thresholds, previous_metrics, write_run

    root = Path(__file__).resolve().parent.parent
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
