"""The web app's own state (assistant/interfaces/web/store.py): conversations per owner, feedback, and the 👎
items as candidate gold items. SQLite in a temporary directory, no index."""
from __future__ import annotations

import json

import pytest

from assistant.domain.values import Answer, Citation
from assistant.evaluation.run import load_gold
from assistant.interfaces.web.candidates import gold_candidate, gold_candidates_jsonl
from assistant.interfaces.web.store import MAX_COMMENT, ConversationError, Store

pytestmark = pytest.mark.unit

ALICE, BOB = "browser:" + "a" * 32, "user:bob"
CITE = Citation(chunk_id="c1", doc_id="changsha", title="指导意见", city="长沙市", doc_number="长教通〔2020〕97号",
                clause="三、主要举措 › 限定合作时间", status="official",
                text="限定合作时间。集团化学校合作时限一般为六年。其他。", score=0.5, n=1,
                quote="集团化学校合作时限一般为六年。")
ANSWER = Answer(question="长沙集团化办学的合作期限是多久？", answer="「集团化学校合作时限一般为六年。」[1]",
                abstained=False, citations=(CITE,), cities=("长沙市",),
                conclusion="长沙市：合作时限一般为六年[1]")


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "web" / "app.sqlite3")


def test_a_conversation_keeps_its_turns_across_a_new_store_on_the_same_file(store, tmp_path):
    conversation = store.create(ALICE, "长沙集团化办学的合作期限是多久？" * 5)
    assert store.add_turn(ALICE, conversation, ANSWER.question, answer=ANSWER) == 0
    assert store.add_turn(ALICE, conversation, "🙂", error="问题中没有可识别的文字。") == 1
    again = Store(tmp_path / "web" / "app.sqlite3")  # as after a server restart
    [listed] = again.conversations(ALICE)
    assert listed.id == conversation and listed.turns == 2 and len(listed.title) <= 40
    first, second = again.turns(ALICE, conversation)
    assert first.answer == ANSWER and first.message == ANSWER.question
    assert second.answer is None and second.error == "问题中没有可识别的文字。"
    assert again.secret == store.secret and len(store.secret) >= 24  # the browser's key survives too


def test_another_users_conversation_is_refused_like_a_missing_one(store):
    conversation = store.create(ALICE, "问题")
    store.add_turn(ALICE, conversation, "问题", answer=ANSWER)
    for attempt in (lambda: store.turns(BOB, conversation), lambda: store.rename(BOB, conversation, "我的"),
                    lambda: store.delete(BOB, conversation), lambda: store.add_turn(BOB, conversation, "x"),
                    lambda: store.rate(BOB, conversation, 0, "down", None),
                    lambda: store.turns(ALICE, "' OR 1=1 --")):
        with pytest.raises(ConversationError, match="找不到该对话"):
            attempt()
    assert store.conversations(BOB) == [] and store.turns(ALICE, conversation)[0].answer == ANSWER


def test_rename_and_delete(store):
    older = store.create(ALICE, "第一个问题")
    newer = store.create(ALICE, "第二个问题")
    store.add_turn(ALICE, older, "第一个问题", answer=ANSWER)  # the one used last comes first
    assert [c.id for c in store.conversations(ALICE)] == [older, newer]
    store.rename(ALICE, newer, "  退出审批  ")
    assert {c.title for c in store.conversations(ALICE)} == {"第一个问题", "退出审批"}
    with pytest.raises(ConversationError):
        store.rename(ALICE, newer, "   ")
    store.delete(ALICE, older)
    assert [c.id for c in store.conversations(ALICE)] == [newer]
    with pytest.raises(ConversationError):
        store.turns(ALICE, older)


def test_feedback_keeps_the_question_answer_citations_corpus_and_time(store):
    conversation = store.create(ALICE, ANSWER.question)
    store.add_turn(ALICE, conversation, ANSWER.question, answer=ANSWER)
    store.add_turn(ALICE, conversation, "🙂", error="没有可识别的文字")
    assert store.rate(ALICE, conversation, 1, "down", "hash") is False  # an error is not an answer
    assert store.rate(ALICE, conversation, 0, "up", "c0ffee")
    assert store.rate(ALICE, conversation, 0, "down", "c0ffee")  # changing one's mind replaces the rating
    cut = store.comment(ALICE, conversation, 0, ["引用有误", "随便写的"], "<img src=x onerror=alert(1)>" + "长" * 10_000)
    assert "已截取前 2000 字" in cut and "10028 字" in cut
    [item] = store.feedback()
    assert (item.rating, item.reasons, item.question, item.corpus_hash) == ("down", ("引用有误",), ANSWER.question,
                                                                            "c0ffee")
    assert item.answer == ANSWER.answer and item.citations[0]["clause"] == CITE.clause and item.created > 0
    assert len(item.comment) == MAX_COMMENT and item.comment.startswith("<img")  # stored as typed, shown escaped
    assert store.ratings(ALICE, conversation) == {0: "down"}
    store.rate(ALICE, conversation, 0, None, None)  # taken back
    assert store.feedback() == [] and store.ratings(ALICE, conversation) == {}
    with pytest.raises(ConversationError, match="请先点击"):
        store.comment(ALICE, conversation, 0, [], "没有评价的意见")


def test_feedback_filters(store):
    conversation = store.create(ALICE, "q")
    for seq, rating in enumerate(("up", "down", "down")):
        store.add_turn(ALICE, conversation, f"问题{seq}", answer=ANSWER)
        store.rate(ALICE, conversation, seq, rating, None)
    store.comment(ALICE, conversation, 1, ["答案不完整"], "少了延长期限")
    assert [f.rating for f in store.feedback(rating="down")] == ["down", "down"]
    assert [f.seq for f in store.feedback(reason="答案不完整")] == [1]
    assert [f.seq for f in store.feedback(contains="延长")] == [1]
    assert store.feedback(rating="up", reason="答案不完整") == []


def test_thumbs_down_become_candidate_gold_items_in_the_gold_format(store, tmp_path):
    conversation = store.create(ALICE, "q")
    abstained = Answer(question="北京的集团化办学有什么规定？", answer="所选城市的文件中没有找到依据。", abstained=True)
    for seq, (answer, rating, reasons) in enumerate(((ANSWER, "down", ["答案不完整"]), (abstained, "down", ["不该拒答"]),
                                                     (ANSWER, "down", ["不该回答"]), (ANSWER, "up", []))):
        store.add_turn(ALICE, conversation, answer.question, answer=answer)
        store.rate(ALICE, conversation, seq, rating, "c0ffee")
        store.comment(ALICE, conversation, seq, reasons, f"意见{seq}")
    text = gold_candidates_jsonl(store.feedback())
    path = tmp_path / "candidates.jsonl"
    path.write_text(text, encoding="utf-8")
    items = {item["review"]["comment"]: item for item in load_gold(path)}  # the evaluation reads them as they are
    assert set(items) == {"意见0", "意见1", "意见2"}  # the 👍 is not a candidate
    incomplete = items["意见0"]
    assert incomplete["type"] == "fact" and incomplete["split"] == "dev" and incomplete["cities"] == ["长沙市"]
    assert incomplete["expected"] == [{"doc_id": "changsha", "clause": CITE.clause,
                                       "key_phrase": "集团化学校合作时限一般为六年"}]
    assert incomplete["expected"][0]["key_phrase"] in CITE.text  # verbatim, as the gold set requires
    assert incomplete["review"]["corpus_hash"] == "c0ffee" and incomplete["review"]["todo"]
    assert items["意见1"]["expected"] == [] and "请补充正确的条款" in items["意见1"]["review"]["todo"][0]
    assert items["意见2"]["type"] == "out_of_scope" and items["意见2"]["expected"] == []
    assert all(json.loads(line)["id"].startswith("fb") for line in text.splitlines())


def test_wrong_citations_are_not_proposed_as_expected_clauses(store):
    conversation = store.create(ALICE, "q")
    store.add_turn(ALICE, conversation, ANSWER.question, answer=ANSWER)
    store.rate(ALICE, conversation, 0, "down", None)
    store.comment(ALICE, conversation, 0, ["引用有误"], "")
    candidate = gold_candidate(store.feedback()[0])
    assert candidate["expected"] == [] and candidate["review"]["cited"] == [{"doc_id": "changsha",
                                                                            "clause": CITE.clause}]
