"""What the scale benchmark relies on: deterministic synthetic corpora whose gold questions name exactly one
clause, exact filtered vector search, integer filter masks, and place detection among thousands of cities."""
from __future__ import annotations

import re

import numpy as np
import pytest

from assistant.chunking.clauses import chunk_document
from assistant.domain.places import find_places
from benchmarks import synth

pytestmark = pytest.mark.unit  # tests marked integration below override it


@pytest.fixture(scope="module")
def stream():
    return synth.documents(40)


def test_corpora_are_deterministic_and_each_is_a_prefix_of_the_next(stream):
    again = synth.documents(25)
    assert [d.text for d in again] == [d.text for d in stream[:25]]
    assert [d.doc_id for d in again] == [d.doc_id for d in stream[:25]]
    assert [d.city for d in synth.documents(10, seed=1)] != [d.city for d in stream[:10]]


def test_documents_are_recombined_seed_clauses_without_the_seeds_places(stream):
    cities = {}
    for d in stream:
        assert d.seed in synth.SEEDS and d.city in d.title and d.doc_number.endswith("号")
        assert not re.search("长沙|南昌|青岛|郑州|中原区", d.text)
        cities.setdefault(d.city, []).append(d.seed)
    # one document per seed and city, so "city + phrase" names one clause
    assert all(len(seeds) == len(set(seeds)) for seeds in cities.values())
    assert len({d.text for d in stream}) > len(synth.SEEDS), "documents differ within a seed"


def test_writes_a_corpus_the_assistant_can_load(stream, tmp_path):
    from assistant.corpus.manifest import load_corpus

    docs = load_corpus(synth.write_corpus(stream[:7], tmp_path / "corpus"))
    assert [d.doc_id for d in docs] == [d.doc_id for d in stream[:7]]
    assert docs[0].city == stream[0].city and docs[0].text == stream[0].text


def test_each_question_names_its_city_and_a_phrase_of_exactly_one_clause_there(stream):
    questions = synth.questions(stream, 25)
    assert len(questions) == 25 and questions == synth.questions(stream, 25)
    cities = sorted({d.city for d in stream})
    by_id = {d.doc_id: d for d in stream}
    for q in questions:
        doc = by_id[q.doc_id]
        assert find_places(q.question, cities).covered == (q.city,) == (doc.city,)
        clauses = [c for c in chunk_document(doc.doc_id, doc.text) if c.clause == q.clause]
        assert any(q.key_phrase in c.clause + c.text for c in clauses)
        city_text = "".join(d.text for d in stream if d.city == q.city)
        assert city_text.count(q.key_phrase) == 1


def test_a_city_named_in_full_is_not_taken_for_a_district_of_it():
    cities = ["常德市武陵区", "常德市", "苏州市姑苏区"]
    assert find_places("常德市关于教师轮岗是怎么规定的？", cities).covered == ("常德市",)
    assert find_places("常德的规定", cities).covered == ("常德市",)
    assert find_places("常德市武陵区的规定", cities).covered == ("常德市武陵区",)
    assert find_places("武陵区和姑苏区有什么不同？", cities).covered == ("常德市武陵区", "苏州市姑苏区")


@pytest.mark.integration
def test_filtered_vector_search_is_exact_and_stays_in_the_filter(assistant):
    store = assistant.snapshot
    vector = assistant.embedder.query_vector("成员校退出集团需要谁批准？")
    hits = store.dense_search(vector, 8, cities=["青岛市"])
    rows = np.flatnonzero(store.mask(cities=["青岛市"]))
    assert len(hits) == 8 and {store.records[r].city for r, _ in hits} == {"青岛市"}
    # the exact cosine ranking over every row of the filter, computed independently from Chroma's copy
    from assistant.index.vectors import ChromaVectors

    collection = ChromaVectors(assistant.settings, assistant.embedder.model_id).collection(create=False)
    got = collection.get(ids=[store.records[r].chunk_id for r in rows], include=["embeddings"])
    matrix = np.asarray(got["embeddings"], dtype=np.float32)
    scores = matrix @ vector / np.linalg.norm(matrix, axis=1) / np.linalg.norm(vector)
    expected = [store.row_of[got["ids"][i]] for i in np.argsort(-scores)[:8]]
    assert [r for r, _ in hits] == expected
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert store.dense_search(vector, 3)[0][0] in {r for r, _ in store.dense_search(vector, 60)}


@pytest.mark.integration
def test_masks_match_the_records_and_unknown_names_match_nothing(assistant):
    store = assistant.snapshot
    mask = store.mask(cities=["长沙市", "南昌市"])
    assert mask.tolist() == [r.city in ("长沙市", "南昌市") for r in store.records]
    doc = store.records[0].doc_id
    both = store.mask(cities=["长沙市", "南昌市"], doc_ids=[doc])
    assert both.tolist() == [r.city in ("长沙市", "南昌市") and r.doc_id == doc for r in store.records]
    assert not store.mask(cities=["不存在市"]).any()
    assert store.mask() is None
    assert store.dense_search(assistant.embedder.query_vector("合作期限"), 5, cities=["不存在市"]) == []


def test_a_refusal_lists_a_few_covered_places_not_thousands():
    from assistant.answering.refusal import abstain

    cities = [f"城市{i}市" for i in range(2500)]
    text = abstain("北京的规定？", "语料中没有北京的文件。", cities).answer
    assert text.endswith("城市11市等 2500 个地区。") and "城市12市" not in text
    assert abstain("问", "没有。", ["长沙市", "青岛市"]).answer == "没有。目前语料覆盖：长沙市、青岛市。"


@pytest.mark.integration
def test_clause_number_lookups_find_by_index_what_a_pass_over_every_clause_finds(assistant):
    from assistant.retrieval.query import clause_refs, structural_matches

    from tests.conftest import load_gold

    questions = [g["question"] for g in load_gold() if g["type"] == "lookup"]
    questions += ["第三部分第5条", "第二部分（三）讲了什么", "(二)第1条", "第一章第五条", "第十二部分"]
    records = assistant.snapshot.records
    retriever = assistant.answerer.retriever
    checked = 0
    for q in questions:
        refs = clause_refs(q)
        if refs:
            everything = structural_matches(q, records, range(len(records)))
            assert structural_matches(q, records, retriever.marked_rows(refs)) == everything, q
            checked += bool(everything)
    assert checked >= 5
