"""Reading a question before searching: its script and language, the places it names (in Chinese or in
pinyin), what kind of answer it wants, and whether it asks several things at once.

Traditional characters are converted with OpenCC, full-width forms folded, and spaces inside Chinese text
removed, so "長沙集團" and "长沙 集团" search like "长沙集团". An English question keeps its words for the
multilingual embedder and gains the documents' Chinese terms from the glossary for lexical search and for the
refusal check; the answer stays in Chinese, with a notice."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from assistant.domain.glossary import glossary
from assistant.retrieval.query import clause_refs

# What kind of answer a question wants. The order matters: the first that matches wins.
_META = {
    "doc_number": re.compile(r"文号|发文字号|字号是"),
    "issuer": re.compile(r"(哪个|哪几个|哪些|什么)(部门|单位|机关)[^审批准同意备]{0,6}(发|印发|出台|制定|联合)|"
                         r"谁(发|印发|出台|制定)的|发文(机关|单位)|联合印发|哪(几)?个部门联合"),
    "date": re.compile(r"(什么时候|何时|哪(一)?年|哪天|哪个月)[^？?]{0,6}(发|印发|出台|发布|施行|生效|实施|成文)|"
                       r"(发布|印发|成文|施行)(时间|日期)"),
    "interprets": re.compile(r"解读的是|解读(哪|什么)"),
    "status": re.compile(r"(正式)?(生效|施行|有效|实施)(了|的)?(吗|没|没有|么|与否)|是不是(正式|草案|征求意见稿)|"
                         r"征求意见稿(吗|还是)|现行有效|还有效|(已经|是否)?废止|正式文件(吗|还是)|草案(吗|还是)|"
                         r"(是|属于)(正式|草案|征求意见稿)"),
}
# the same asked in English (the answer stays in Chinese): "When did … take effect?", "Who issued …?"
_META_EN = {
    "doc_number": re.compile(r"\b(document|reference|file|serial) (number|no\b)", re.IGNORECASE),
    "issuer": re.compile(r"\bwho (issued|published|released|promulgated|drafted)\b|\bissued by (whom|which|what)\b|"
                         r"\b(which|what) (department|agency|body|bodies|authorit(y|ies)|office|bureau)s?\b"
                         r"[^?]{0,30}\b(issue|issued|publish|published|release|released|jointly)\b|"
                         r"\bissuing (body|bodies|authority|authorities|department|departments|agency)\b", re.IGNORECASE),
    "date": re.compile(r"\bwhen\b[^?]{0,100}\b(take|took|taken|takes|come|came|comes|go|went|enter|entered)\b"
                       r"[^?]{0,12}\b(effect|force)\b|\bwhen\b[^?]{0,100}\b(issued|published|released|promulgated)\b|"
                       r"\b(what|which) (date|day|year)\b[^?]{0,100}\b(effect|force|effective|issued|published)\b|"
                       r"\beffective date\b|\bdate of (issue|issuance|publication)\b", re.IGNORECASE),
    "status": re.compile(r"\b(still|currently|now|already|yet|officially)\b[^?]{0,12}\b(in force|in effect|valid|"
                         r"effective|a draft)\b|\bis (it|this|that|the [^?]{1,60}) (still |only )?(a|an) (draft|official)\b|"
                         r"\b(been )?(repealed|abolished)\b", re.IGNORECASE),
}
# a document named by its kind, by title marks, or as a law ("学前教育法什么时候施行"; not 做法, 说法, 方法…)
_DOCUMENT_WORDS = re.compile(r"文件|意见|方案|通知|办法|解读|政策|规定|条例|细则|《[^》]+》|"
                             r"(?<![做说想看方合违用写算])法(?=[》是的吗呢么什何哪从自于，,。？?\s（(]|$)|"
                             r"(?i:\b(document|opinions?|plan|notice|measures|polic(y|ies)|regulations?|guidelines?|"
                             r"guidance|rules|law|draft|circular)\b)")
_WHICH_CITY = re.compile(r"哪(个|些|座)(城市|地方|地区|市|区县|区)|哪里(有|提出|规定|要求)|哪(个|些)地|"
                         r"which (city|cities|place|places)|where\b", re.IGNORECASE)
_NUMERIC = re.compile(r"多少|几(年|所|个|次|成|天|周|月|名|人)|多久|多长|比例|百分之|占比|最多|最少|上限|下限|"
                      r"不超过|不少于|至少|how (long|many|much)", re.IGNORECASE)
_LIST = re.compile(r"哪些|包括|包含|有什么(内容|方面|要求|措施)|哪几(种|类|个方面)|分为|分成|几种|几类|what are|"
                   r"(what|which) (kinds?|types?|sorts?|forms?) of", re.IGNORECASE)
_APPROVAL = re.compile(r"谁(来)?(批|审批|同意|点头|拍板|说了算)|报(给|到|送)?(谁|哪|哪个部门|哪里)|向(谁|哪)|审批|批准|批复|"
                       r"备案|报备|同意|who (approve|decide)", re.IGNORECASE)
_PROHIBITION = re.compile(r"能不能|可不可以|能否|是否(可以|允许|能)|可以[^？?]{0,12}吗|能[^？?]{0,10}吗|允许|禁止|不得|"
                          r"行不行|行吗|\bcan\b|allowed", re.IGNORECASE)
_PART_SPLIT = re.compile(r"[？?]+|；")
_LATIN = re.compile(r"[A-Za-z]")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Query:
    asked: str  # as the user typed it
    text: str  # simplified, folded: what is searched and checked
    english: bool
    terms: tuple[str, ...]  # document terms the glossary adds (English questions)
    places: tuple[str, ...]  # covered places named in pinyin ("Changsha" → 长沙市)
    intent: str  # meta | which_city | numeric | list | approval | prohibition | fact
    meta_fields: tuple[str, ...] = ()  # for intent "meta": doc_number, issuer, date, status, interprets

    @property
    def search_text(self) -> str:
        """What the embedder and BM25 read: the question plus the Chinese terms and place names it stands for."""
        extra = " ".join((*self.places, *self.terms))
        return f"{self.text} {extra}".strip()

    @property
    def lexical_text(self) -> str:
        """What the checks that count words read: a Chinese question as asked (they match each of its words
        through the glossary's variants, so "加入" and the "纳新" it stands for count once, not twice); an
        English question's words match no Chinese clause, so only the Chinese terms and places it stands for."""
        return " ".join((*self.places, *self.terms)) if self.english else self.text


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def simplify(text: str) -> str:
    """Traditional → simplified, full-width → half-width, no spaces between Chinese characters."""
    text = _converter().convert(text)
    text = "".join(unicodedata.normalize("NFKC", ch) if ch.isalnum() or ch in "　 " else ch for ch in text)
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", text).strip()


def is_english(text: str) -> bool:
    latin, cjk = len(_LATIN.findall(text)), len(_CJK.findall(text))
    return latin >= 8 and latin > 3 * cjk


@lru_cache(maxsize=8)
def _pinyin_names(cities: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(pinyin, city) for every covered place and its short forms: "changsha" → 长沙市, "zhongyuan" → 郑州市中原区."""
    from pypinyin import lazy_pinyin

    from assistant.domain.places import aliases

    names: dict[str, str] = {}
    for city in cities:
        for alias in aliases(city):
            core = re.sub(r"[市区县省]$", "", alias)
            if len(core) >= 2:
                names.setdefault("".join(lazy_pinyin(core)).lower(), city)
    return tuple(sorted(names.items(), key=lambda item: len(item[0]), reverse=True))


def pinyin_places(text: str, cities: tuple[str, ...]) -> tuple[str, ...]:
    words = re.sub(r"[^a-z]+", " ", text.lower())
    squashed = f" {words} "
    found: dict[str, int] = {}
    for name, city in _pinyin_names(cities):
        at = squashed.find(f" {name} ")
        if at >= 0:
            found.setdefault(city, at)
            squashed = squashed.replace(f" {name} ", " " * (len(name) + 2))
    return tuple(sorted(found, key=found.get))


_LOOKUP = re.compile(r"(讲|说|写|规定|提)(了|的)?(是)?(些)?(什么|啥)|是什么内容|什么内容|内容是|(是)?关于(什么|啥)|"
                     r"(讲|说|写)(了)?(哪些|啥子)|(是|指)(什么|啥|哪些)[？?]?$")


def intent_of(text: str) -> tuple[str, tuple[str, ...]]:
    if clause_refs(text) and _LOOKUP.search(text):  # "第三部分第5条讲什么": the clause itself is the answer
        return "lookup", ()
    if _WHICH_CITY.search(text):  # "哪个城市的意见是…联合印发的" asks for a place, not for a document's field
        return "which_city", ()
    fields = tuple(f for f, pattern in _META.items() if pattern.search(text)) or \
        tuple(f for f, pattern in _META_EN.items() if _LATIN.search(text) and pattern.search(text))
    if fields and (_DOCUMENT_WORDS.search(text) or "文号" in text):
        return "meta", fields
    for name, pattern in (("numeric", _NUMERIC), ("list", _LIST), ("prohibition", _PROHIBITION),
                          ("approval", _APPROVAL)):
        if pattern.search(text):
            return name, ()
    return "fact", ()


def analyse(question: str, cities: list[str] | tuple[str, ...]) -> Query:
    text = simplify(question)
    english = is_english(text)
    terms = glossary().english_terms(text) if _LATIN.search(text) else glossary().colloquial_terms(text)
    places = pinyin_places(text, tuple(cities)) if _LATIN.search(text) else ()
    intent, fields = intent_of(text)
    if intent == "fact" and english:
        intent, fields = intent_of(text.lower())
    return Query(question, text, english, terms, places, intent, fields)


def split_parts(text: str) -> list[str]:
    """The questions a message asks: "…要报谁审批？合作期限一般多长？" → two. A part too short to stand on its own
    ("为什么？") stays with the one before it."""
    parts: list[str] = []
    for piece in _PART_SPLIT.split(text):
        piece = piece.strip(" ，,。")
        if not piece:
            continue
        if parts and len(_CJK.findall(piece)) < 5:
            parts[-1] += "，" + piece
        else:
            parts.append(piece)
    return parts if len(parts) > 1 else [text]
