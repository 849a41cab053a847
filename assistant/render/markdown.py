"""Answers as Markdown for the web page; every piece of document or user text is made inert."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from assistant.domain.markup import inert
from assistant.domain.values import Answer, status_label



def answer_markdown(answer: Answer) -> str:
    lines: list[str] = []
    if answer.abstained:
        lines.append(f"**未找到依据**：{inert(answer.answer)}")
    else:
        lines.append(inert(answer.answer).replace("\n", "  \n"))
    for notice in answer.notices:
        lines.append(f"> ⚠️ {inert(notice)}")
    if answer.citations:
        lines.append("---\n**引用条款**")
        for c in answer.citations:
            badge = "" if c.status == "official" else f" `{status_label(c.status)}`"
            number = f" {inert(c.doc_number)}" if c.doc_number else ""
            body = inert(c.text)
            quote = inert(c.quote)
            if quote and quote in body:
                body = body.replace(quote, f"**{quote}**", 1)
            lines.append(f"**\\[{c.n}\\] {inert(c.place_label)}｜《{inert(c.title)}》{number}**{badge}  \n"
                         f"{inert(c.clause)}  \n{body}")
    return "\n\n".join(lines)


def stream_markdown(items: Iterable[str | Answer]) -> Iterator[str]:
    """For a Gradio generator over `Assistant.ask_stream`: the growing draft, then the checked answer
    that replaces it (`yield from stream_markdown(assistant.ask_stream(message, cities, mode))`)."""
    draft = ""
    for item in items:
        if isinstance(item, Answer):
            yield answer_markdown(item)
            return
        draft += item
        yield inert(draft).replace("\n", "  \n") + "\n\n> ⏳ 正在生成，完成后将逐条核对引用……"
