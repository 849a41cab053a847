"""Follow-up questions in a chat keep the conversation's city context.

"那长沙呢？" after "青岛成员校退出集团需要谁批准？" asks the previous question about 长沙; a question that
names no city keeps the previous turn's cities. Pure functions, no index needed."""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.domain.places import aliases, find_places

# What is left of a follow-up once its city names are removed: "那……呢", "……怎么规定", "……又如何".
_FOLLOW_UP = re.compile(r"^(那么?|那个|再看看?|换成|改成|还有|那在|如果是|要是)?(的话)?"
                        r"(呢|怎么样|怎样|如何|又如何|又是怎样|怎么规定|是怎么规定的|规定呢|的规定呢|也一样吗|一样吗)?"
                        r"(的话)?(呢)?$")
_PUNCT = re.compile(r"[\s，。？！?!,.、；;：:…“”\"'（）()]+")


@dataclass(frozen=True)
class Turn:
    """What the chat actually asks: the question (rewritten for a follow-up) and the cities it covers."""

    question: str
    cities: tuple[str, ...]
    rewritten: bool = False  # the question was built from the previous one
    inherited: bool = False  # the cities came from the previous turn

    def answered(self, cities: tuple[str, ...]) -> "Turn":
        """What the next turn follows up on: this question, with the cities its answer covered."""
        return Turn(self.question, tuple(cities) or self.cities)


def _strip_places(text: str, known: list[str]) -> str:
    for alias in sorted({a for c in known for a in aliases(c)}, key=len, reverse=True):
        text = text.replace(alias, "")
    return text


def is_follow_up(question: str, known: list[str]) -> bool:
    """A question that names a city and says nothing else ("那长沙呢？", "青岛呢", "中原区怎么规定")."""
    if not find_places(question, known).covered:
        return False
    rest = _PUNCT.sub("", _strip_places(question, known))
    rest = re.sub(r"[和与及跟、]", "", rest)
    return _FOLLOW_UP.match(rest) is not None


def _with_cities(previous: str, cities: tuple[str, ...], known: list[str]) -> str:
    """The previous question about other cities: its city names replaced by the new ones."""
    named = "和".join(c for c in cities)
    places = find_places(previous, known).covered
    if places:
        # replace the first mention with the new cities and drop the others
        # the first mention, and of the aliases starting there the longest ("长沙市", not "长沙" leaving "市")
        spans = sorted(((previous.find(a), -len(a), a) for c in places for a in aliases(c) if a in previous))
        first_at, _, first = spans[0]
        head, tail = previous[:first_at], previous[first_at + len(first):]
        return head + named + _strip_places(tail, known)
    return named + previous


def resolve(question: str, previous: Turn | None, known: list[str],
            selected: list[str] | tuple[str, ...] | None = None) -> Turn:
    """The question to ask and its cities. Cities chosen in the filter win; then cities named in the
    question; a bare follow-up ("那长沙呢？") reuses the previous question; otherwise a question naming
    no city keeps the previous turn's cities."""
    question = question.strip()
    if selected:
        return Turn(question, tuple(selected))
    named = find_places(question, known).covered
    if named:
        if previous is not None and is_follow_up(question, known):
            return Turn(_with_cities(previous.question, named, known), named, rewritten=True)
        return Turn(question, named)
    if previous is not None and previous.cities and not find_places(question, known).uncovered:
        return Turn(question, previous.cities, inherited=True)
    return Turn(question, ())
