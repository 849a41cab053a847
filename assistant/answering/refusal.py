"""Refusals: what an answer says when the documents do not answer, naming what the corpus covers."""
from __future__ import annotations

from assistant.domain.values import Answer

_LISTED_CITIES = 12  # places named in a refusal's coverage line


def abstain(question: str, reason: str, covered_cities: list[str], cities: tuple[str, ...] = (),
            notices: tuple[str, ...] = ()) -> Answer:
    coverage = "、".join(covered_cities[:_LISTED_CITIES])
    if len(covered_cities) > _LISTED_CITIES:  # a corpus of thousands of districts is not listed in full
        coverage += f"等 {len(covered_cities)} 个地区"
    text = f"{reason}目前语料覆盖：{coverage}。"
    return Answer(question=question, answer=text, abstained=True, notices=notices, cities=cities)
