"""Command line: `policy-assistant ask|retrieve|compare|index build|ingest|docs|eval|charter|serve|token|mcp` (also
`python -m assistant`). This module holds the parser and the dispatch; each command group has its module."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.errors import AssistantError
from assistant.interfaces.cli import charter as charter_cli
from assistant.interfaces.cli import documents, evaluation, questions, tokens

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
  policy-assistant ingest 政策文件夹/ --status official
  policy-assistant ask "成员校退出需要谁批准？" --as-of 2023-09-01
  policy-assistant ingest 方案2024修订.pdf --supersedes changsha-jituan-2020
  policy-assistant docs list
  policy-assistant docs diff 旧版本ID 新版本ID --markdown
  policy-assistant serve --port 7860
  policy-assistant token create dify --write
  policy-assistant mcp
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
    ask.add_argument("--only-place", action="store_true", help="只用所问地方本级的文件（默认还包括省级、国家级等上级文件）")
    ask.add_argument("--mode", choices=("llm", "extractive"), default=None,
                     help="llm：大模型生成并核对引用；extractive：摘录原文（默认：已配置大模型时为 llm）")
    _version_options(ask)

    retrieve = sub.add_parser("retrieve", help="只检索条款，不组织回答")
    retrieve.add_argument("question")
    retrieve.add_argument("-k", type=int, default=5, help="返回条款数（默认 5）")
    retrieve.add_argument("--city", action="append")
    retrieve.add_argument("--json", action="store_true")
    retrieve.add_argument("--only-place", action="store_true", help="只用所问地方本级的文件（默认还包括省级、国家级等上级文件）")
    _version_options(retrieve)

    index = sub.add_parser("index", help="索引管理")
    index_sub = index.add_subparsers(dest="index_command", required=True, metavar="子命令")
    build = index_sub.add_parser("build", help="从 corpus/ 构建或更新索引")
    build.add_argument("--rebuild", action="store_true", help="删除现有索引后完整重建（保留嵌入缓存）")
    index_sub.add_parser("seed-cache", help="把语料的向量写入 corpus/embedding-cache.sqlite，随语料分发（新机器首次构建无需重新计算）")

    compare = sub.add_parser("compare", help="跨城市对比：同一问题或主题按城市并列")
    compare.add_argument("question", nargs="?", help="问题或主题（如“退出与终止”）；与 --matrix 二选一")
    compare.add_argument("--city", action="append", help="参与对比的城市，可重复（默认：问题中的城市或全部城市）")
    compare.add_argument("--matrix", action="store_true", help="全部主题 × 全部城市的总览表")
    compare.add_argument("--only-place", action="store_true", help="每个城市只用本级文件（默认还列出适用的上级文件）")
    compare.add_argument("--topics", action="store_true", help="列出主题目录")
    fmt = compare.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="输出 JSON")
    fmt.add_argument("--markdown", action="store_true", help="输出 Markdown 表格（默认）")
    fmt.add_argument("--csv", action="store_true", help="输出 CSV")
    _version_options(compare)

    evaluate = sub.add_parser("eval", help="在评测集上评测检索、引用与拒答，写出报告")
    evaluate.add_argument("--gold", action="append", default=None,
                          help="评测集 JSONL，可重复（默认 eval/ 下的 gold.jsonl、blind-dev*.jsonl、blind-heldout.jsonl）")
    evaluate.add_argument("--runs-dir", default=None, help="报告目录（默认 eval/runs）")
    evaluate.add_argument("--thresholds", default=None, help="阈值文件（默认 eval/thresholds.toml）")
    evaluate.add_argument("--check", action="store_true", help="任一指标低于阈值时以退出码 1 结束")
    evaluate.add_argument("--no-baseline", action="store_true", help="不评测朴素基线（更快）")
    evaluate.add_argument("--mode", choices=["extractive", "llm"], default=None,
                          help="回答模式（默认：已配置大模型时为 llm，否则为 extractive）")
    evaluate.add_argument("--json", action="store_true", help="输出 JSON 指标")
    evaluate.add_argument("--laws", action="store_true",
                          help="法规分集：把 eval/laws/ 列出的真实法规（从 --laws-dir 读取）与内置语料一起导入，按地方层级回答并评测")
    evaluate.add_argument("--laws-dir", default=None, help="法规目录（默认 ../shared/laws）")
    evaluate.add_argument("--laws-set", default=None,
                          help="法规分集的题目目录（含 documents.jsonl 与 questions.jsonl；默认 eval/laws；另有 eval/laws2）")
    evaluate.add_argument("--work-dir", default=None, help="法规分集的语料与索引目录（默认 data/eval-laws，可重复使用）")
    evaluate.add_argument("--train-ranker", action="store_true",
                          help="用评测集的开发题（不含留出集）训练二次排序权重，写入 assistant/retrieval/ranker.json")
    evaluate.add_argument("--rotation", action="store_true",
                          help="轮换评测：每个开发分集用其余开发分集训练的权重回答（不改动已发布的权重；约每分集 1 分钟）")
    evaluate.add_argument("--rotation-splits", default=None,
                          help="轮换评测只回答这些分集（逗号分隔，如 blind-dev,blind-dev2），便于分进程并行")
    evaluate.add_argument("--items-out", default=None, help="轮换评测：逐题结果写入此 JSONL 文件")
    evaluate.add_argument("--no-laws-training", action="store_true",
                          help="轮换评测不使用法规开发分集（eval/laws3）训练，便于与只用内置语料训练的结果对比")
    ingest = sub.add_parser(
        "ingest", help="导入 PDF/DOCX/TXT/MD 政策文件、PNG/JPG 扫描图片或整个文件夹（扫描件自动 OCR；自动识别标题、"
                       "地方、日期等，可用选项覆盖）",
        description="导入政策文件：提取文字和元数据，写入 corpus/ 并增量更新索引。同一文件重复导入不会产生重复条款；"
                    "同一地方、同一标题（去掉修订/征求意见稿等标记）或同一文号系列的新版本与旧版本并存，旧版本标为已修正。"
                    "多个文件或文件夹逐个导入（每个文件单独生效），"
                    "最后列出汇总表；有文件失败或需要补充字段时退出码为 2。识别不到地方的文件列出，不会猜测。")
    ingest.add_argument("paths", nargs="+", metavar="PATH",
                        help="PDF、DOCX、TXT、MD 文件或 PNG、JPG 图片，或包含它们的文件夹")
    ingest.add_argument("--city", help="所属地方（对所有文件生效），如 长沙市、郑州市中原区、山东省、全国")
    ingest.add_argument("--title", help="文件标题（仅单个文件）")
    ingest.add_argument("--short-title", help="简称（仅单个文件）")
    ingest.add_argument("--issuer", help="发文机关")
    ingest.add_argument("--doc-number", help="文号，如 长教通〔2020〕97号（仅单个文件）")
    ingest.add_argument("--date", help="成文日期，如 2020-12-08")
    ingest.add_argument("--adopted-date", help="通过（印发）日期，如 2020-12-08")
    ingest.add_argument("--effective-date", help="施行日期，如 2021-01-01")
    ingest.add_argument("--validity", help="效力：trial（试行）、interim（暂行）或 repealed（废止）")
    ingest.add_argument("--status", help="official（正式文件）、draft（征求意见稿）或 interpretation（政策解读）")
    ingest.add_argument("--expiry-date", help="失效日期（此日起不再适用），如 2025-12-31")
    ingest.add_argument("--replace", metavar="ID", help="覆盖语料中的这份文档（不保留旧版本）")
    ingest.add_argument("--supersedes", metavar="ID",
                        help="作为这份文档的新版本导入（仅单个文件）：旧版本保留并标为已修正（征求意见稿标为已定稿）")
    ingest.add_argument("--dry-run", action="store_true", help="只显示识别结果，不写入")
    ingest.add_argument("--json", action="store_true")

    docs = sub.add_parser("docs", help="查看或删除语料中的文档")
    docs_sub = docs.add_subparsers(dest="docs_command", required=True, metavar="子命令")
    docs_list = docs_sub.add_parser("list", help="列出全部文档")
    docs_list.add_argument("--as-of", metavar="YYYY-MM-DD", help="显示各文档在该日期的效力（默认今天）")
    docs_list.add_argument("--json", action="store_true")
    show = docs_sub.add_parser("show", help="显示一份文档的元数据、效力、版本沿革和条款结构")
    show.add_argument("doc_id", metavar="ID")
    show.add_argument("--text", action="store_true", help="同时输出全文")
    show.add_argument("--json", action="store_true")
    diff = docs_sub.add_parser("diff", help="逐条对比同一文件的两个版本：新增、删除、修改、移动的条款，修改处标出改动的文字")
    diff.add_argument("old", metavar="OLD", help="旧版本的文档编号")
    diff.add_argument("new", metavar="NEW", nargs="?", help="新版本的文档编号（默认：OLD 的下一个版本）")
    diff_fmt = diff.add_mutually_exclusive_group()
    diff_fmt.add_argument("--json", action="store_true", help="输出 JSON")
    diff_fmt.add_argument("--markdown", action="store_true", help="输出 Markdown（默认）")
    diff_fmt.add_argument("--docx", metavar="FILE", help="保存为 Word 文件（删除的文字红色删除线，新增的文字绿色下划线）")
    link = docs_sub.add_parser("link", help="把语料中已有的文档设为另一份文档的新版本")
    link.add_argument("doc_id", metavar="ID", help="新版本的文档编号")
    link_target = link.add_mutually_exclusive_group(required=True)
    link_target.add_argument("--supersedes", metavar="OLD", help="被取代的旧版本的文档编号")
    link_target.add_argument("--none", action="store_true", help="取消它与上一个版本的关系")
    remove = docs_sub.add_parser("remove", help="从语料和索引中删除一份文档")
    remove.add_argument("doc_id", metavar="ID")

    serve = sub.add_parser("serve", help="启动网页应用（默认 127.0.0.1）")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)

    sub.add_parser("mcp", help="以 stdio 方式运行 MCP 服务器（供 Claude Desktop、Cherry Studio 等 MCP 客户端启动）")
    tokens.add_parser(sub)
    charter_cli.add_parser(sub)
    return parser


def _version_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="按该日期施行的版本回答（默认：今天施行的版本）")
    parser.add_argument("--include-outdated", action="store_true",
                        help="也引用已修正、已废止或已定稿的征求意见稿等旧版本（引用处标明）")


def run(args: argparse.Namespace) -> int:
    if args.command == "charter":  # pure logic over corpus/requirements.json: no index, no model
        return charter_cli.run(args)
    if args.command == "serve":
        from assistant.interfaces.web.app import main as serve_app

        serve_app(host=args.host, port=args.port)
        return 0
    if args.command == "token":
        return tokens.run(args)
    if args.command == "mcp":
        from assistant.interfaces.http.mcp_server import run_stdio

        run_stdio()
        return 0
    if args.command == "index":
        return documents.run_index(args)
    if args.command == "ingest":
        return documents.run_ingest(args)
    if args.command == "docs":
        return documents.run_docs(args)
    if args.command == "eval":
        return evaluation.run(args)
    return questions.run(args)


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
