"""The division table (cpca's adcodes.csv): places, their levels and codes, and the places above them."""
from __future__ import annotations

import pytest

from assistant.domain.divisions import (LEVEL_LABELS, NATIONAL, ancestors, chain_at_start, contains, divisions,
                                        lineage, place_of, short_name)
from assistant.domain.places import ancestors as reexported

pytestmark = pytest.mark.unit


def test_the_table_is_cpcas_and_covers_every_level():
    places = divisions().by_code.values()
    assert len(places) > 3000
    assert {p.level for p in places} == {"national", "province", "city", "district"}
    assert sum(p.level == "province" for p in places) == 34


@pytest.mark.parametrize("name,code,canonical,level", [
    ("郑州市中原区", "410102", "郑州市中原区", "district"), ("中原区", "410102", "郑州市中原区", "district"),
    ("410102", "410102", "郑州市中原区", "district"), ("青岛", "370200", "青岛市", "city"),
    ("青岛市", "370200", "青岛市", "city"), ("山东省", "370000", "山东省", "province"),
    ("北京市", "110000", "北京市", "province"), ("北京市朝阳区", "110105", "北京市朝阳区", "district"),
    ("义乌市", "330782", "义乌市", "district"), ("吉林", "220000", "吉林省", "province"),
    ("吉林市", "220200", "吉林市", "city"), ("广西", "450000", "广西壮族自治区", "province"),
    ("延边", "222400", "延边朝鲜族自治州", "city"), ("全国", "100000", "全国", "national"),
    ("济源市", "419001", "济源市", "district"),
])
def test_place_of_a_name_or_code(name, code, canonical, level):
    place = place_of(name)
    assert (place.code, place.name, place.level) == (code, canonical, level)


@pytest.mark.parametrize("name", ["朝阳区", "雄安新区", "本市", "", None, "关于推进集团化办学的意见"])
def test_shared_unknown_and_generic_names_give_no_place(name):
    assert place_of(name) is None


def test_ancestors_lead_up_to_the_country():
    assert [p.name for p in ancestors("郑州市中原区")] == ["郑州市", "河南省", "全国"]
    assert [p.name for p in lineage(place_of("410102"))] == ["郑州市中原区", "郑州市", "河南省", "全国"]
    assert [p.name for p in ancestors("北京市朝阳区")] == ["北京市", "全国"]  # a municipality's district
    assert [p.name for p in ancestors("济源市")] == ["河南省", "全国"]  # under the province directly
    assert ancestors(NATIONAL) == () and lineage("雄安新区") == ()
    assert reexported is ancestors


def test_contains_and_labels():
    assert contains(place_of("河南省"), place_of("中原区")) and contains(NATIONAL, place_of("青岛市"))
    assert not contains(place_of("山东省"), place_of("中原区"))
    assert place_of("山东省").label == "山东省·省级" and place_of("中原区").label == "郑州市中原区·区县级"
    assert set(LEVEL_LABELS) == {"national", "province", "city", "district"}


def test_short_names_drop_the_suffix_and_the_ethnic_groups():
    assert short_name("广西壮族自治区") == "广西" and short_name("彭水苗族土家族自治县") is None
    assert short_name("延边朝鲜族自治州") == "延边" and short_name("青岛市") == "青岛"


def test_the_most_specific_place_named_at_the_start():
    assert chain_at_start("河南省郑州市中原区教育局").places == (place_of("410102"),)
    assert chain_at_start("深圳经济特区绿色建筑条例").places == (place_of("深圳市"),)
    assert len(chain_at_start("朝阳区教育委员会").places) == 2  # 北京 and 长春: the caller decides
    assert chain_at_start("关于推进集团化办学的意见") is None
