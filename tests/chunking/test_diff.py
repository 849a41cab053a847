"""The clause-level diff: articles aligned by number and by content (moved and renumbered articles found),
changed characters marked with difflib, on a constructed pair, on the bundled draft with known edits and on a
real revised law read from ../shared/laws at test time."""
from __future__ import annotations

import pytest

from assistant.chunking.diff import VersionDiff, char_diff, diff_texts, units
from tests.conftest import CORPUS, LAWS
from tests.support.versions import final_text

pytestmark = pytest.mark.unit

OLD = """第一条 为了规范集团化办学，制定本办法。
第二条 集团合作期限一般为六年。
第三条 成员校退出集团，应当经区教育局同意。
第四条 集团每年组织一次联合教研活动。
第五条 本办法自2020年1月1日起施行。"""

NEW = """第一条 为了规范集团化办学，制定本办法。
第二条 集团每年组织一次联合教研活动。
第三条 集团合作期限一般为五年，可延长一次。
第四条 成员校退出集团，应当经区教育局同意。
第五条 集团应当建立教师交流轮岗制度。
第六条 本办法自2024年1月1日起施行。"""


def _by_label(changes):
    return {c.label: c for c in changes}


def test_articles_are_aligned_by_content_with_moves_renumbering_and_additions():
    changes = _by_label(diff_texts(OLD, NEW))

    up, down = changes["第四条 → 第二条"], changes["第三条 → 第四条"]  # the same articles, reordered
    assert (up.kind, up.renumbered, down.kind, down.renumbered) == ("unchanged", True, "unchanged", True)
    assert up.moved != down.moved  # one of the two left the order of the others
    term = changes["第二条 → 第三条"]
    assert term.kind == "changed" and term.renumbered
    # a one-character island between two changes (年) is folded into them, so the change reads as words
    assert [s for s in term.segments if s[0] != "equal"] == [("delete", "六年"), ("insert", "五年，可延长一次")]
    assert changes["第五条"].kind == "added" and "教师交流轮岗" in changes["第五条"].new_text
    assert changes["第五条 → 第六条"].kind == "changed"
    assert {c.kind for c in changes.values()} == {"unchanged", "changed", "added"}


def test_a_removed_article_is_listed_after_the_article_it_followed():
    changes = diff_texts(OLD, OLD.replace("第三条 成员校退出集团，应当经区教育局同意。\n", ""))
    kinds = [(c.kind, c.old) for c in changes]
    assert kinds[2] == ("removed", "第三条")
    assert sum(c.kind == "removed" for c in changes) == 1


def test_changed_characters_rebuild_both_texts():
    for old, new in (("集团合作期限一般为六年。", "集团合作期限一般为五年，可延长一次。"),
                     ("不少于10个", "不少于12个"), ("甲乙丙", "甲乙丙"), ("1", "2"), ("共3所", "共13所"),
                     ("达到85%以上", "达到90%以上")):
        pieces = char_diff(old, new)
        assert "".join(t for op, t in pieces if op != "insert") == old
        assert "".join(t for op, t in pieces if op != "delete") == new
        assert all(text for _, text in pieces)
    assert char_diff("不少于10个", "不少于12个") == (("equal", "不少于"), ("delete", "10"), ("insert", "12"),
                                                 ("equal", "个"))


def test_the_draft_with_known_edits_shows_exactly_those_edits():
    draft = (CORPUS / "docs" / "zhongyuan-jituan-draft.txt").read_text(encoding="utf-8")
    final = final_text(CORPUS)

    diff = VersionDiff({"doc_id": "old"}, {"doc_id": "new"}, diff_texts(draft, final))

    edits = [(c.kind, c.new) for c in diff.edits]
    assert edits == [("changed", "二、工作目标"), ("changed", "四、主要举措 › （六）实施课程共建共享"),
                     ("added", "六、保障机制 › （五）健全退出机制")]
    marked = [[t for op, t in c.segments if op != "equal"] for c in diff.edits[:2]]
    assert marked == [["10", "12"], ["年", "学期"]]  # a changed number is marked whole
    assert diff.counts()["removed"] == 0 and diff.counts()["unchanged"] == len(units(draft)) - 2
    markdown = diff.to_markdown()
    assert "~~年~~**学期**" in markdown and "【新增】（五）健全退出机制" in markdown


def test_a_real_revision_aligns_renumbered_articles():
    old = (LAWS / "诉讼与非诉讼程序法/行政复议法(2017-09-01).md").read_text(encoding="utf-8")
    new = (LAWS / "诉讼与非诉讼程序法/行政复议法(2023-09-01).md").read_text(encoding="utf-8")

    changes = diff_texts(old, new)

    pairs = {c.old.rsplit(" › ", 1)[-1]: c.new.rsplit(" › ", 1)[-1] for c in changes if c.old and c.new}
    kinds = {(c.kind, (c.old or c.new).rsplit(" › ", 1)[-1]) for c in changes if c.kind in ("added", "removed")}
    # checked by hand against the two texts (see docs/versions.md): the aim stays 第一条; the time limit for
    # applying (old 第九条) is new 第二十条; 被申请人不得自行收集证据 (old 第二十四条) is new 第四十六条; 行政赔偿
    # (old 第二十九条) is new 第七十二条; old 第十八条 (a county government forwarding applications) was dropped;
    # new 第五条 (调解) is new
    assert pairs["第一条"] == "第一条"
    assert pairs["第九条"] == "第二十条"
    assert pairs["第二十四条"] == "第四十六条"
    assert pairs["第二十九条"] == "第七十二条"
    assert ("removed", "第十八条") in kinds and ("added", "第五条") in kinds
    assert len(units(new)) == sum(c.new is not None for c in changes)  # every new article appears once
    assert len(units(old)) == sum(c.old is not None for c in changes)
