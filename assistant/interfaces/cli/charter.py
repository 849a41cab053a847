"""`policy-assistant charter check|draft|suggest|list`: charter commands that need no index or model."""
from __future__ import annotations

import argparse
import json

EXAMPLES = """示例：
  policy-assistant charter check 章程草案.docx --city 长沙市
  policy-assistant charter check draft.md --city 中原区 --type 引领型 --json
  policy-assistant charter draft --city 青岛市 --type 聚合型 -o charter.docx
  policy-assistant charter suggest --doc changsha-jituan-2020
  policy-assistant charter list --city 南昌市
"""
_TYPE_HELP = "集团类型，如 紧密型|引领型|项目型|融合型|聚合型|联合型（各地可选类型不同）"


def add_parser(sub) -> None:
    charter = sub.add_parser("charter", help="章程合规：检查草案、生成框架稿、提取候选要求",
                             epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = charter.add_subparsers(dest="charter_command", required=True, metavar="子命令")

    check = commands.add_parser("check", help="检查章程草案（.txt/.md/.docx）是否符合本地要求")
    check.add_argument("file", help="章程草案文件")
    check.add_argument("--city", required=True, help="城市/地区，如 长沙市、郑州市中原区")
    check.add_argument("--type", dest="group_type", help=_TYPE_HELP + "；不填则从草案识别")
    check.add_argument("--json", action="store_true", help="输出 JSON")

    draft = commands.add_parser("draft", help="生成覆盖全部要求、逐条注明依据的章程框架稿")
    draft.add_argument("--city", required=True)
    draft.add_argument("--type", dest="group_type", help=_TYPE_HELP)
    draft.add_argument("-o", "--output", help="输出文件 .md 或 .docx；不填则打印 Markdown")

    suggested = commands.add_parser("suggest", help="从文件条款中提取候选要求（待人工确认）")
    suggested.add_argument("--doc", dest="doc_id", required=True, help="文档编号，见 corpus/manifest.json")
    suggested.add_argument("--new", action="store_true", help="只列出尚未收录进要求清单的候选")
    suggested.add_argument("--json", action="store_true")

    listing = commands.add_parser("list", help="列出某地区的要求清单")
    listing.add_argument("--city", required=True)
    listing.add_argument("--type", dest="group_type", help=_TYPE_HELP)
    listing.add_argument("--json", action="store_true")


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def run(args: argparse.Namespace) -> int:
    from assistant.interfaces.cli.common import assistant

    a = assistant()  # charter commands never open the index or load the model
    command = args.charter_command
    if command == "check":
        report = a.check_charter(a.read_draft(args.file), args.city, args.group_type)
        _print_json(report.to_dict()) if args.json else print(report.to_markdown(), end="")
    elif command == "draft":
        skeleton = a.charter_skeleton(args.city, args.group_type)
        if args.output:
            path = a.write_skeleton(skeleton, args.output)
            print(f"已生成章程框架稿：{path}（{len(skeleton.requirement_ids)} 项要求，"
                  f"{sum(len(s.articles) for s in skeleton.sections)} 条）")
        else:
            print(skeleton.to_markdown(), end="")
    elif command == "suggest":
        candidates = [c for c in a.suggest_requirements(args.doc_id) if not (args.new and c.curated)]
        if args.json:
            _print_json([c.to_dict() for c in candidates])
        else:
            print(_candidates_text(candidates) or "没有找到含“应/须/不得/原则上/不超过”等的条款。")
    elif command == "list":
        scope = a.charter_scope(args.city, args.group_type)
        if args.json:
            _print_json([r.to_dict() for r in scope.requirements])
        else:
            print(_requirements_text(scope))
    return 0


def _candidates_text(candidates) -> str:
    blocks = []
    for n, c in enumerate(candidates, start=1):
        curated = f"已收录：{'、'.join(c.curated)}" if c.curated else "未收录"
        parameter = f"；数值：{c.parameter.describe()}" if c.parameter else ""
        blocks.append(f"[{n}] 【{c.status}】{c.kind_label}（{curated}；标记词：{'、'.join(c.markers)}{parameter}）\n"
                      f"    {c.clause}\n    「{c.quote}」")
    return "\n\n".join(blocks)


def _requirements_text(scope) -> str:
    head = f"{scope.city}{'（' + scope.group_type + '）' if scope.group_type else ''}：{len(scope.requirements)} 项要求"
    lines = [head, *(f"提示：{n}" for n in scope.notices)]
    for r in scope.requirements:
        tag = ("待确认｜" if r.provisional else "") + ("需复核｜" if r.review else "")
        lines.append(f"\n- [{r.id}]〔{tag}{r.kind_label}〕{r.summary}\n    依据：{r.source.citation}\n    「{r.source.quote}」")
        if r.review:
            lines.append(f"    需复核：{r.review}" + (f"\n    现行版本原文：{r.current_text}" if r.current_text else ""))
    return "\n".join(lines)
