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


def test_colloquial_words_reach_the_notion_they_name():
    g = glossary()
    assert "职称评聘" in g.colloquial_terms("去城里学校练了一年，评职称有没有加分？")
    assert {"交通", "住宿"} <= set(g.colloquial_terms("他来回的路费和住的钱谁掏？"))
    assert "组建新的教育集团" in g.colloquial_terms("我们想另起炉灶")


def test_topics_the_documents_do_not_treat_are_not_bridged_to_a_nearby_notion():
    # a related notion is not the same notion: mapping 中考 to 指标生 made "中考是哪几天" look covered
    g = glossary()
    for question in ("长沙今年中考是哪几天？", "学区是怎么划分的？", "寒假哪天开始放？"):
        assert g.colloquial_terms(question) == (), question
    assert set(g.colloquial_terms("老师工资谁发？")) <= {"教师"}


def test_colloquial_words_are_not_the_documents_own_words():
    g = glossary()
    corpus = "".join(d.text for d in load_corpus(CORPUS))
    keys = [k for k in g.colloquial if len(k) >= 2]
    assert sum(k not in corpus for k in keys) / len(keys) > 0.9
