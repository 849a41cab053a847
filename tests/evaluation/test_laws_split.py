"""The laws split's scoring (assistant/evaluation/laws.py): pure logic over judged items, and its data files."""
import pytest

from assistant.evaluation.laws import LAWS_EVAL, LawResult, failures, metrics, read_jsonl
from tests.conftest import LAWS

pytestmark = pytest.mark.unit


def _result(id_, answerable=True, hit5=True, lead=1.0, cited=True, place_level=True, abstained=False, foreign=()):
    return LawResult(id_, "provincial_for_city" if answerable else "must_refuse", answerable, hit5, lead, cited,
                     place_level, abstained, foreign)


def test_metrics_count_answerable_and_must_refuse_items_apart():
    results = [_result("a"), _result("b", hit5=False, lead=0.0, cited=False, place_level=None),
               _result("c", answerable=False, hit5=False, lead=0.0, cited=False, place_level=None, abstained=True),
               _result("d", place_level=False, foreign=("浙江省",))]
    m = metrics(results)
    assert (m["items"], m["answerable"], m["must_refuse"]) == (4, 3, 1)
    assert m["hit_at_5"] == 0.667 and m["lead"] == 0.667 and m["cited"] == 0.667
    assert m["place_level_correct"] == 0.5  # of the two items with a right citation
    assert m["refusal_accuracy"] == 1.0 and m["no_foreign_citation"] == 0.75
    assert [f["id"] for f in failures(results)] == ["b", "d"]


@pytest.mark.parametrize("split,sizes", [(LAWS_EVAL, (10, 30)), (LAWS_EVAL.parent / "laws2", (10, 30)),
                                         (LAWS_EVAL.parent / "laws3", (12, 60))], ids=["laws", "laws2", "laws3"])
def test_every_split_file_exists_under_the_shared_laws_and_every_question_names_its_documents(split, sizes):
    documents = read_jsonl(split / "documents.jsonl")
    questions = read_jsonl(split / "questions.jsonl")
    assert (len(documents), len(questions)) == sizes
    assert len({q["id"] for q in questions}) == len(questions)
    files = {d["file"] for d in documents}
    assert all((LAWS / f).is_file() for f in files)
    for q in questions:
        assert all(e["file"] in files for e in q["expected"]), q["id"]
        assert q["expected"] or q["type"] == "must_refuse", q["id"]
        for e in q["expected"]:  # the key phrase is verbatim in the regulation
            text = (LAWS / e["file"]).read_text(encoding="utf-8")
            assert e["key_phrase"] in "".join(text.split()), (q["id"], e["key_phrase"])


def test_the_second_laws_split_shares_no_regulation_with_the_first():
    first = {d["file"] for d in read_jsonl(LAWS_EVAL / "documents.jsonl")}
    second = {d["file"] for d in read_jsonl(LAWS_EVAL.parent / "laws2" / "documents.jsonl")}
    assert second and not first & second


def test_the_laws_splits_share_no_regulation_and_only_the_development_one_is_trained():
    from assistant.evaluation.laws import LAWS_TRAINING

    files = {name: {d["file"] for d in read_jsonl(LAWS_EVAL.parent / name / "documents.jsonl")}
             for name in ("laws", "laws2", "laws3")}
    assert not files["laws"] & files["laws2"] and not (files["laws"] | files["laws2"]) & files["laws3"]
    assert LAWS_TRAINING == ("laws3",)  # eval/laws and eval/laws2 stay untrained tests of real text
