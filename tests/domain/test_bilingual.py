"""English words reach the documents' Chinese words through CC-CEDICT, limited to the words the corpus uses."""
from __future__ import annotations

import pytest

from assistant.domain.bilingual import content_words, translations

pytestmark = pytest.mark.unit


def _corpus(*words):
    used = set(words)
    return lambda word: int(word in used)


def test_only_the_translations_the_corpus_uses_are_kept():
    found = translations("by which year should they cover all rural central schools?", _corpus("农村", "覆盖", "乡村"))
    assert {"农村", "覆盖"} <= set(found)
    assert set(found) <= {"农村", "覆盖", "乡村"}, "a word the corpus never uses is no search term"
    assert translations("rural", _corpus()) == ()


def test_inflections_find_their_dictionary_form():
    assert "补贴" in translations("Which schools receive subsidies?", _corpus("补贴", "补助"))
    assert "评估" in translations("Who evaluates the groups?", _corpus("评估"))
    assert "教师" in translations("teachers", _corpus("教师"))


def test_question_words_and_the_fields_own_words_are_not_translated():
    assert content_words("How can the school of a group do what it wants?") == ["wants"]


def test_formulas_figures_and_quoted_codes_are_kept_as_the_documents_write_them():
    from assistant.domain.bilingual import literals

    corpus = {"1", "n", "x", "2024"}
    used = lambda word: int(word in corpus)  # noqa: E731
    assert literals("What does the 'X' in Qingdao's '1+N+X' model stand for, by 2024?", used) == ("x", "1", "n", "2024")
    assert literals("What does the 'Y' stand for in 2030?", used) == ()  # not in the documents: nothing added
    assert literals("X-ray schools and Tom's experience", used) == ()
