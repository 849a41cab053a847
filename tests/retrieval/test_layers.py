"""Layers of government in a question's scope: a school is governed by its place's documents and those of every
covered place above it (issue 15). Pure logic over the division table; no index."""
import pytest

from assistant.domain.values import Citation
from assistant.retrieval.search import Scope, governing_places, resolve_scope

pytestmark = pytest.mark.unit

KNOWN = ["青岛市", "山东省", "全国", "长沙市", "郑州市中原区", "河南省"]


def test_a_place_is_governed_by_itself_then_each_covered_place_above_it_nearest_first():
    assert governing_places("青岛市", KNOWN) == ("青岛市", "山东省", "全国")
    # 郑州市 has no documents here: the district goes straight on to its province
    assert governing_places("郑州市中原区", KNOWN) == ("郑州市中原区", "河南省", "全国")
    assert governing_places("长沙市", KNOWN) == ("长沙市", "全国")  # 湖南省 not covered
    assert governing_places("长沙市", ["长沙市", "青岛市"]) == ("长沙市",)


def test_a_city_question_searches_the_city_with_its_province_and_the_nation():
    scope = resolve_scope("青岛的幼儿园户外活动时间有要求吗？", None, KNOWN)
    assert scope.cities == ("青岛市",) and scope.layers == (("青岛市", "山东省", "全国"),)
    assert scope.searched() == ("青岛市", "山东省", "全国") and not scope.notices
    assert scope.describe() == "青岛市（含上级：山东省、全国）"


def test_only_place_keeps_to_the_place_s_own_documents():
    scope = resolve_scope("青岛的幼儿园户外活动时间有要求吗？", None, KNOWN, layered=False)
    assert scope.groups() == (("青岛市",),) and scope.describe() == "青岛市"


def test_a_place_without_documents_is_answered_from_the_places_above_it_with_a_notice():
    scope = resolve_scope("济南的幼儿园户外活动时间有要求吗？", None, KNOWN)
    assert scope.refusal is None and scope.cities == ("济南市",) and scope.layers == (("山东省", "全国"),)
    assert scope.notices == ("语料中没有济南市本地的文件，以下依据其上级山东省（省级）、全国（国家级）的规定回答。",)
    chosen = resolve_scope("户外活动时间", ["济南市"], KNOWN)
    assert chosen.refusal is None and chosen.layers == (("山东省", "全国"),)


def test_without_layers_or_covered_places_above_an_uncovered_place_is_refused():
    assert resolve_scope("济南的幼儿园户外活动时间？", None, KNOWN, layered=False).refusal
    refused = resolve_scope("杭州市的幼儿园户外活动时间？", None, ["青岛市", "山东省"])
    assert refused.refusal and "杭州" in refused.refusal and refused.uncovered == ("杭州",)
    assert resolve_scope("户外活动", ["杭州市"], ["青岛市", "山东省"]).refusal == "语料中没有杭州市的文件。"


def test_two_places_keep_their_own_layers():
    scope = resolve_scope("青岛和长沙的合作期限有什么不同？", None, KNOWN)
    assert scope.cities == ("青岛市", "长沙市")
    assert scope.groups() == (("青岛市", "山东省", "全国"), ("长沙市", "全国"))


def test_the_bundled_cities_have_no_layers_above_them():
    bundled = ["长沙市", "南昌市", "郑州市中原区", "青岛市"]
    scope = resolve_scope("青岛的合作期限？", None, bundled)
    assert scope.groups() == (("青岛市",),) and scope == Scope(("青岛市",), layers=(("青岛市",),))


def test_a_citation_is_labelled_with_its_place_and_level():
    base = dict(chunk_id="c", doc_id="d", title="山东省学前教育条例", doc_number=None, clause="第四十条",
                status="official", text="……", score=1.0)
    assert Citation(city="山东省", level="province", **base).place_label == "山东省·省级"
    assert Citation(city="全国", level="national", **base).to_dict()["place_label"] == "全国·国家级"
    assert Citation(city="某地", **base).place_label == "某地"  # no level known: the place alone
