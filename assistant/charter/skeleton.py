"""A compliant charter outline: one article per requirement, each annotated with the clause it satisfies.

Articles come from the requirements' curated wording (`draft`); annotation lines start with
"依据：" so the checker skips them and the outline passes on its own text, not on the quotes.
"""
from __future__ import annotations

from dataclasses import dataclass

from assistant.charter.check import NOTE_PREFIX, scope_for
from assistant.domain.markup import inert
from assistant.charter.requirements import TOPICS, Requirement, RequirementBook, Source
from assistant.domain.segment import cn_ordinal

@dataclass(frozen=True)
class Article:
    text: str
    requirement_ids: tuple[str, ...] = ()
    basis: tuple[tuple[Source, str], ...] = ()  # (source clause, condition it applies under)

    def notes(self, city: str) -> list[str]:
        """Annotation lines: the clause each requirement of this article comes from."""
        return [f"{NOTE_PREFIX}{city}{s.citation}：「{s.quote}」" + (f"（适用情形：{c}）" if c else "")
                for s, c in self.basis]


@dataclass(frozen=True)
class Section:
    title: str
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class Skeleton:
    city: str
    group_type: str | None
    title: str
    sections: tuple[Section, ...]
    notices: tuple[str, ...] = ()
    provisional: bool = False

    @property
    def requirement_ids(self) -> tuple[str, ...]:
        return tuple(rid for s in self.sections for a in s.articles for rid in a.requirement_ids)

    def numbered(self):
        """(section number, section, [(article number, article)]) with articles numbered across sections."""
        n = 0
        for i, section in enumerate(self.sections, start=1):
            articles = []
            for article in section.articles:
                n += 1
                articles.append((n, article))
            yield i, section, articles

    @property
    def preface(self) -> list[str]:
        """Remarks before the articles; each starts with "注：" so the checker skips them."""
        kind = f"；集团类型：{self.group_type}" if self.group_type else ""
        return [f"注：适用地区：{self.city}{kind}。",
                "注：本框架稿的条款覆盖该地区文件对集团章程、协议和集团程序的全部要求，每条之后注明所依据的条款原文；"
                "【】内为待填写内容；以“依据：”“注：”开头的行为注释，定稿时可删除。",
                *(f"注：{n}" for n in self.notices)]

    def to_markdown(self) -> str:
        lines = [f"# {inert(self.title)}", ""]
        lines += [f"{inert(p)}  " for p in self.preface]
        for i, section, articles in self.numbered():
            lines += ["", f"## 第{cn_ordinal(i)}章 {section.title}"]
            for n, article in articles:
                lines += ["", f"第{cn_ordinal(n)}条　{inert(article.text)}"]
                lines += [f"> {inert(note)}  " for note in article.notes(self.city)]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        return {
            "city": self.city, "group_type": self.group_type, "title": self.title,
            "provisional": self.provisional, "notices": list(self.notices),
            "sections": [{"number": i, "title": s.title, "articles": [
                {"number": n, "text": a.text, "requirement_ids": list(a.requirement_ids),
                 "notes": a.notes(self.city)} for n, a in articles]} for i, s, articles in self.numbered()],
        }


def _opening(group_type: str | None) -> tuple[Article, ...]:
    articles = [Article("本集团名称为【集团名称】，由核心校【核心校名称】与成员学校【成员学校名单】组成。")]
    if group_type:
        articles.append(Article(f"本集团类型：{group_type}。"))
    return tuple(articles)


_CLOSING = (Article("本章程自【施行日期】起施行，由【集团决策机构】负责解释。"),)


def _articles(requirements: tuple[Requirement, ...]) -> dict[str, list[Article]]:
    """Requirements grouped by section; requirements sharing one wording become one article."""
    merged: dict[tuple[str, str], list[Requirement]] = {}
    for req in requirements:
        merged.setdefault((req.topic, req.draft), []).append(req)
    by_topic: dict[str, list[Article]] = {}
    for (topic, draft), reqs in merged.items():
        basis = tuple(dict.fromkeys((r.source, r.condition) for r in reqs))
        by_topic.setdefault(topic, []).append(Article(draft, tuple(r.id for r in reqs), basis))
    return by_topic


def build_skeleton(book: RequirementBook, city: str, group_type: str | None = None) -> Skeleton:
    """An outline whose articles cover every requirement that applies to `city` and `group_type`."""
    scope = scope_for(book, city, group_type)
    by_topic = _articles(scope.requirements)
    topics = dict(TOPICS)
    if scope.provisional:  # suggested requirements carry no section; keep them apart, clearly labelled
        by_topic = {"provisional": by_topic.pop("general", [])}
        topics = {"general": TOPICS["general"], "provisional": "待确认条款", "supplementary": TOPICS["supplementary"]}
    sections = []
    for topic, title in topics.items():
        articles = list(by_topic.get(topic, []))
        if topic == "general":
            articles = [*_opening(scope.group_type), *articles]
        if topic == "supplementary":
            articles = [*articles, *_CLOSING]
        if articles:
            sections.append(Section(title, tuple(articles)))
    kind = f"（{scope.group_type}）" if scope.group_type else ""
    notices = tuple(n for n in scope.notices if not n.startswith("未指定集团类型")) + (
        (f"未指定集团类型，只包含通用要求；可选类型：{'、'.join(t.name for t in book.jurisdiction(scope.city).group_types)}。",)
        if scope.group_type is None and book.jurisdiction(scope.city).group_types else ())
    return Skeleton(scope.city, scope.group_type, f"【集团名称】章程{kind}（框架稿）", tuple(sections),
                    notices, scope.provisional)
