"""The domain glossary: a versioned data file of colloquial and English words → the documents' words."""
from __future__ import annotations

import pytest

from assistant.corpus.manifest import load_corpus
from assistant.domain.glossary import glossary

from tests.conftest import CORPUS

pytestmark = pytest.mark.unit


def test_the_glossary_maps_to_words_the_documents_use():
    g = glossary()
    corpus = "".join(d.text for d in load_corpus(CORPUS))
    used = [t for terms in (*g.colloquial.values(), *g.english.values()) for t in terms]
    share = sum(t in corpus for t in used) / len(used)
    assert g.version >= 1 and share > 0.9, "glossary targets are the documents' own vocabulary"


def test_variants_colloquial_and_english_terms():
    g = glossary()
    assert g.variants("单飞")[0] == "单飞" and "退出" in g.variants("单飞")
    assert "交通" in g.colloquial_terms("来回路费谁掏？")
    assert g.colloquial_terms("合作时限") == ()
    found = g.english_terms("Can a member school leave the education group?")
    assert "成员校" in found and "退出" in found and "教育集团" in found
    assert "招生计划" in g.english_terms("who decides the enrollment plan")
