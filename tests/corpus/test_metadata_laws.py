"""Metadata read from real regulations nobody here wrote (../shared/laws, read at test time, never copied):
titles, places and their layer, the dates of adoption and entry into force, amendment history, status —
in the LawRefBook Markdown form and in the plain-text form government sites publish."""
from __future__ import annotations

import re

import pytest

from assistant.corpus.metadata import suggest
from tests.conftest import LAWS

pytestmark = pytest.mark.unit


def _read(name: str, folder: str = "DLC/*/*/*") -> str:
    found = sorted(LAWS.glob(f"{folder}/{name}.md"))
    assert found, f"{name} not found under {LAWS} (set ASSISTANT_LAWS_DIR to the shared laws)"
    return found[0].read_text(encoding="utf-8")


def as_published(text: str) -> str:
    """The same text as a plain .txt: title, the dates in one parenthesised paragraph, the articles."""
    head, _, body = text.partition("<!-- INFO END -->")
    lines = [ln.strip() for ln in head.splitlines() if ln.strip()]
    info = f"（{'　'.join(lines[1:])}）\n" if lines[1:] else ""
    return lines[0].removeprefix("# ") + "\n" + info + re.sub(r"(?m)^#+\s*", "", body)


# name, title, place, level, code, issuer, adopted, effective
CASES = [
    ("山东省学前教育条例(2021-12-03)", "山东省学前教育条例", "山东省", "province", "370000",
     "山东省人民代表大会常务委员会", "2021-12-03", "2020-01-01"),
    ("青岛市学前教育条例(2018-11-30)", "青岛市学前教育条例", "青岛市", "city", "370200",
     "青岛市人民代表大会常务委员会", "2018-09-07", "2013-06-02"),
    ("北京市实施《教师法》办法", "北京市实施《中华人民共和国教师法》办法", "北京市", "province", "110000",
     "北京市人民代表大会常务委员会", "2010-12-23", "1994-09-10"),
    ("鹤壁市浚县古城保护条例(2020-10-28)", "鹤壁市浚县古城保护条例", "鹤壁市浚县", "district", "410621",
     "鹤壁市人民代表大会常务委员会", "2020-09-26", "2021-01-01"),
    ("景宁畲族自治县城市管理条例(2015-06-08)", "景宁畲族自治县城市管理条例", "丽水市景宁畲族自治县", "district",
     "331127", "景宁畲族自治县人民代表大会常务委员会", "2015-05-27", "2015-08-01"),
    ("彭水苗族土家族自治县旅游条例(2019-04-19)", "彭水苗族土家族自治县旅游条例", "重庆市彭水苗族土家族自治县",
     "district", "500243", "彭水苗族土家族自治县人民代表大会", "2019-03-28", "2015-10-01"),
    ("上海市浦东新区市场主体退出若干规定(2021-09-28)", "上海市浦东新区市场主体退出若干规定", "上海市浦东新区",
     "district", "310115", "上海市人民代表大会常务委员会", "2021-09-28", "2021-11-01"),
    ("深圳经济特区绿色建筑条例(2022-03-28)", "深圳经济特区绿色建筑条例", "深圳市", "city", "440300",
     "深圳市人民代表大会常务委员会", "2022-03-28", "2022-07-01"),
    ("宁波大榭开发区条例(2013-06-14)", "宁波大榭开发区条例", "宁波市", "city", "330200",
     "宁波市人民代表大会常务委员会", "2013-05-29", None),
    ("义乌国际贸易综合改革试验区条例(2019-11-29)", "义乌国际贸易综合改革试验区条例", "义乌市", "district", "330782",
     "浙江省人民代表大会常务委员会", "2019-11-29", "2020-01-01"),
    # a 莱芜市 regulation that 济南市 amended after the merger: the version in force is 济南市's
    ("济南市既有多层住宅增设电梯规定(2019-02-12)", "济南市既有多层住宅增设电梯规定", "济南市", "city", "370100",
     "济南市人民代表大会常务委员会", "2019-02-12", None),
    ("杭州市法律援助条例(2017-01-13)", "杭州市法律援助条例", "杭州市", "city", "330100",
     "杭州市人民代表大会常务委员会", "2016-12-23", "2017-03-01"),
    ("潮州市畲族文化保护条例(2021-04-29)", "潮州市畲族文化保护条例", "潮州市", "city", "445100",
     "潮州市人民代表大会常务委员会", "2021-03-18", "2021-05-01"),
    # a date cut over two lines in the source ("2014年9月26\n\n日")
    ("济南市农村公路条例(2014-09-26)", "济南市农村公路条例", "济南市", "city", "370100",
     "济南市人民代表大会常务委员会", "2014-09-26", "2014-10-01"),
    # a title whose parallel phrases are separated by spaces
    ("河南省人民代表大会常务委员会关于全面加强生态环境保护  依法推动打好污染防治攻坚战  让中原更加出彩的决议"
     "(2018-09-29)",
     "河南省人民代表大会常务委员会关于全面加强生态环境保护 依法推动打好污染防治攻坚战 让中原更加出彩的决议",
     "河南省", "province", "410000", "河南省人民代表大会常务委员会", "2018-09-29", None),
    ("关于议案的若干暂行规定(2010-12-23)", "关于议案的若干暂行规定", "北京市", "province", "110000",
     "北京市人民代表大会", "2010-12-23", None),
]


@pytest.mark.parametrize("published", [False, True], ids=["markdown", "plain-text"])
@pytest.mark.parametrize("case", CASES, ids=[c[0][:12] for c in CASES])
def test_title_place_layer_issuer_and_dates(case, published):
    name, title, place, level, code, issuer, adopted, effective = case
    text = _read(re.sub(r"([\[\]*?])", r"[\1]", name))
    meta = suggest(as_published(text) if published else text)
    assert (meta.title, meta.city, meta.level, meta.place_code) == (title, place, level, code)
    assert (meta.issuer, meta.adopted_date, meta.date) == (issuer, adopted, adopted)
    if effective:
        assert meta.effective_date == effective


def test_amendments_are_kept_in_order_even_when_an_entry_is_wrapped_over_lines():
    meta = suggest(_read("浙江省县、乡两级人民代表大会代表选举实施细则(2021-03-26)"))
    assert meta.history == ("1984-02-19 通过", "1987-01-20 修正", "1995-08-19 修正", "2002-06-28 修正",
                            "2006-09-30 修正", "2010-12-16 修正", "2016-05-27 修正", "2021-03-26 修正")
    fire = suggest(_read("浙江省消防条例(2021-11-25)"))
    assert fire.history == ("2010-05-28 通过", "2016-05-27 修订", "2017-11-30 修正", "2021-11-25 修正")


def test_a_law_that_repeals_others_is_not_itself_repealed():
    # its last amendment is 《关于修改 废止部分地方性法规的决定》: the word is inside a title
    meta = suggest(_read("青岛市河道管理条例(2020-03-26)"))
    assert meta.validity is None and meta.adopted_date == "2020-03-26" and meta.effective_date == "2010-10-01"
    assert "2010-10-01 施行" in meta.history


def test_interim_rules_and_national_laws():
    interim = suggest(_read("上海市漕河泾新兴技术开发区暂行条例"))
    assert (interim.validity, interim.city, interim.status) == ("interim", "上海市", "official")
    law = suggest(_read("教育法(2021-04-29)", folder="*"))
    assert (law.title, law.city, law.level, law.place_code) == ("中华人民共和国教育法", "全国", "national", "100000")
    assert law.short_title == "中华人民共和国教育法"  # no place in front of a national text
    regulation = suggest(_read("不动产登记暂行条例(2019-03-24)", folder="*"))
    assert (regulation.issuer, regulation.level, regulation.validity) == ("国务院", "national", "interim")
    assert regulation.adopted_date == "2014-11-24"  # published by 国务院令: no vote to date it otherwise


def test_a_text_that_names_no_place_gets_none_never_a_guess():
    meta = suggest("关于加强学校管理的通知\n一、各校要加强安全管理。\n二、本通知自印发之日起施行。\n")
    assert meta.city is None and meta.level is None and meta.place_code is None
    assert meta.effective_date is None  # issued on a date the text does not give


def test_the_document_number_and_the_body_name_the_place_when_title_and_issuer_do_not():
    numbered = suggest("关于加强教师队伍建设的意见\n鲁教师字〔2021〕3号\n一、总体要求\n各地要加强教师队伍建设。\n")
    assert (numbered.city, numbered.level) == ("山东省", "province")
    scoped = suggest("物业管理若干规定\n第一条 为规范物业管理，制定本规定。\n"
                     "第二条 本规定适用于杭州市行政区域内的物业管理活动。\n")
    assert (scoped.city, scoped.place_code) == ("杭州市", "330100")
    shared = suggest("关于加强教师队伍建设的意见\n长教发〔2021〕3号\n一、各校要加强建设。\n")  # 长沙? 长春? 长治?
    assert shared.city is None
