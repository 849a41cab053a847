"""Layers of government on real regulations (issue 15): the Shandong and Qingdao pre-school regulations from
../shared/laws (read at test time, never copied) imported beside the bundled corpus, as a user would, with their
place and level read from the text. A Qingdao school is answered from the provincial rule, labelled as such; a
Jinan school (no documents of its own) from the province, with a notice; `only_place` keeps to the place."""
from __future__ import annotations

import pytest

from tests.conftest import LAWS, assistant_over_copy, save_cache

pytestmark = pytest.mark.integration

FILES = ("山东省学前教育条例(2021-12-03).md", "青岛市学前教育条例(2018-11-30).md")
OUTDOOR = "孩子们每天在户外活动的时间有没有最低要求？"
RULE = "每天户外活动时间不得少于两小时"


@pytest.fixture(scope="module")
def layered(tmp_path_factory, shared_cache):
    a = assistant_over_copy(tmp_path_factory.mktemp("layers"), shared_cache)
    paths = [str(next(LAWS.glob(f"DLC/*/*/*/{name}"))) for name in FILES]
    report = a.ingest_many(paths)
    assert report.ok, [r.to_dict() for r in report.results]
    save_cache(a.settings.index_dir, shared_cache)
    return a


def test_imported_regulations_carry_their_place_and_level(layered):
    places = {d.title: (d.city, d.level) for d in layered.list_documents()}
    assert places["山东省学前教育条例"] == ("山东省", "province")
    assert places["青岛市学前教育条例"] == ("青岛市", "city")


def test_a_city_school_is_answered_from_the_provincial_rule_labelled_with_its_level(layered):
    answer = layered.ask(f"我们是青岛的一所幼儿园，{OUTDOOR}")
    assert not answer.abstained
    provincial = [c for c in answer.citations if RULE in c.text]
    assert provincial and provincial[0].place_label == "山东省·省级"
    assert provincial[0].title == "山东省学前教育条例"
    assert {c.city for c in answer.citations} <= {"青岛市", "山东省"}  # nothing from places that do not govern


def test_only_place_leaves_the_province_out(layered):
    answer = layered.ask(f"我们是青岛的一所幼儿园，{OUTDOOR}", only_place=True)
    assert all(c.city == "青岛市" for c in answer.citations)
    assert all(c.city == "青岛市" for c in layered.retrieve(f"青岛幼儿园{OUTDOOR}", k=5, only_place=True))


def test_a_place_without_its_own_documents_is_answered_from_its_province_with_a_notice(layered):
    answer = layered.ask(f"我们是济南的一所幼儿园，{OUTDOOR}")
    assert not answer.abstained and any(RULE in c.text for c in answer.citations)
    assert "语料中没有济南市本地的文件，以下依据其上级山东省（省级）的规定回答。" in answer.notices
    refused = layered.ask(f"我们是济南的一所幼儿园，{OUTDOOR}", only_place=True)
    assert refused.abstained and "济南" in refused.answer


def test_a_rule_of_another_province_never_answers_for_a_school_it_does_not_govern(layered):
    """The Shandong rule on weekly menus does not govern a Zhengzhou kindergarten."""
    answer = layered.ask("郑州市中原区的幼儿园是不是必须每周向家长公示食谱？")
    assert all(c.city not in ("山东省", "青岛市") for c in answer.citations)


def test_a_comparison_shows_the_provincial_rule_under_its_city(layered):
    result = layered.compare(f"青岛和长沙的幼儿园{OUTDOOR}")
    cells = {cell.city: cell for cell in result.cells}
    assert any(c.city == "山东省" and RULE in c.text for c in cells["青岛市"].citations)
    assert all(c.city in ("长沙市",) for c in cells["长沙市"].citations)


def test_a_laws_question_becomes_a_training_item_whose_key_is_verbatim_in_the_imported_article(layered):
    from assistant.evaluation.laws import as_gold
    from assistant.evaluation.train import groups_for

    documents = [{"file": "shandong.md", "title": "山东省学前教育条例", "level": "province", "place": "山东省"}]
    questions = [
        {"id": "x1", "split": "laws-test", "type": "provincial_for_city", "question": OUTDOOR, "asker_place": "青岛市",
         "expected": [{"file": "shandong.md", "article": "第四十条", "key_phrase": RULE}]},
        {"id": "x2", "split": "laws-test", "type": "city", "question": OUTDOOR, "asker_place": "青岛市",
         "expected": [{"file": "shandong.md", "article": "第九十九条", "key_phrase": "本条例里没有的一句话"}]},
        {"id": "x3", "split": "laws-test", "type": "must_refuse", "question": "幼儿园午睡室床距有没有标准？",
         "asker_place": "青岛市", "expected": []}]
    items = {i["id"]: i for i in as_gold(layered, documents, questions)}
    assert set(items) == {"x1", "x3"}  # an article that is not there is dropped, never guessed
    (key,) = items["x1"]["expected"]
    record = next(r for r in layered.answerer.snapshot.records if r.doc_id == key["doc_id"] and r.clause == key["clause"])
    assert key["key_phrase"] in record.text and "第四十条" in key["clause"]
    assert items["x3"]["expected"] == []

    # searched as the pipeline searches: the asker's city with the province above it
    (group,) = groups_for(layered, [items["x1"]])
    assert "山东省" in group.scope and "青岛市" in group.scope
    assert group.labels.any() and group.snapshot is layered.answerer.snapshot
