"""`ask`, `retrieve` and `compare`: answers with their cited clauses, as text or JSON."""
from __future__ import annotations

import argparse
import sys

from assistant.domain.values import OCR_LABEL, Answer, Citation, status_label
from assistant.domain.versions import IN_FORCE, state_label
from assistant.errors import QuestionError
from assistant.interfaces.cli.common import opened, print_json


def run(args: argparse.Namespace) -> int:
    if args.command == "compare" and args.topics:
        from assistant.domain.topics import TOPICS

        print("\n".join(f"{t.label}（{t.key}）：{t.description}" for t in TOPICS))
        return 0
    a = opened()
    if args.command == "compare":
        return run_compare(a, args)
    versions = {"as_of": args.as_of, "include_outdated": args.include_outdated}
    if args.command == "ask":
        if args.json:
            print_json(a.ask(args.question, cities=args.city, mode=args.mode, only_place=args.only_place,
                             **versions).to_dict())
        else:
            print_stream(a.ask_stream(args.question, cities=args.city, mode=args.mode, only_place=args.only_place,
                                      **versions))
    else:
        citations = a.retrieve(args.question, k=args.k, cities=args.city, only_place=args.only_place, **versions)
        if args.json:
            print_json([c.to_dict() for c in citations])
        else:
            print("\n\n".join(format_citation(c) for c in citations) or "没有检索到条款。")
    return 0


def format_citation(c: Citation) -> str:
    number = f" {c.doc_number}" if c.doc_number else ""
    badge = "" if c.status == "official" else f" 【{status_label(c.status)}】"
    if c.ocr:
        badge += f" 【{OCR_LABEL}】"
    if c.force and c.force not in IN_FORCE:
        badge += f" 【{state_label(c.force)}】"
    version = f"\n    版本：{c.version or '日期不详'}｜文本哈希 {c.doc_sha256[:12]}" if c.doc_sha256 else ""
    context = f"（接上文：{c.context}……）" if c.context else ""
    return f"[{c.n}] {c.place_label}｜《{c.title}》{number}{badge}{version}\n    {c.clause}\n    {context}{c.text}"


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


def run_compare(assistant, args: argparse.Namespace) -> int:
    if args.matrix:
        result = assistant.compare_matrix(cities=args.city, as_of=args.as_of, include_outdated=args.include_outdated)
    elif args.question:
        result = assistant.compare(args.question, cities=args.city, only_place=args.only_place, as_of=args.as_of,
                                   include_outdated=args.include_outdated)
    else:
        raise QuestionError("请给出要对比的问题或主题，或使用 --matrix 查看全部主题。")
    if args.json:
        print_json(result.to_dict())
    elif args.csv:
        sys.stdout.write(result.to_csv())
    else:
        print(result.to_markdown())
    return 0


