"""The web app's HTML (assistant/views.py) and the chat's follow-up context (assistant/dialogue.py):
pure functions, no index."""
from __future__ import annotations

import re

import pytest

from assistant.retrieval.dialogue import Turn, is_follow_up, resolve
from assistant.domain.values import Answer, Citation
from assistant.interfaces.web.views import answer_html, answer_plain, citation_card, highlight

pytestmark = pytest.mark.unit  # tests marked integration below override it

CITIES = ["南昌市", "郑州市中原区", "长沙市", "青岛市"]
EVIL = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def _citation(n=1, text="限定合作时间。集团化学校合作时限一般为六年。其他。", quote="集团化学校合作时限一般为六年。",
              status="official", title="关于进一步优化基础教育集团化办学的指导意见") -> Citation:
    return Citation(chunk_id=f"c{n}", doc_id="changsha", title=title, city="长沙市", doc_number="长教通〔2020〕97号",
                    clause="三、主要举措 › 限定合作时间", status=status, text=text, score=0.5, n=n, quote=quote,
                    level="city")


def test_follow_up_with_a_city_reuses_the_previous_question():
    first = resolve("青岛成员校退出集团需要谁批准？", None, CITIES)
    assert first == Turn("青岛成员校退出集团需要谁批准？", ("青岛市",))
    turn = resolve("那长沙呢？", first, CITIES)
    assert turn.question == "长沙市成员校退出集团需要谁批准？" and turn.cities == ("长沙市",) and turn.rewritten
    assert resolve("中原区怎么规定", first, CITIES).cities == ("郑州市中原区",)
    assert resolve("长沙和南昌呢？", first, CITIES).cities == ("长沙市", "南昌市")


def test_a_question_naming_no_city_keeps_the_previous_cities():
    first = Turn("长沙集团化办学的合作期限是多久？", ("长沙市",))
    turn = resolve("成员校能提前退出吗？", first, CITIES)
    assert turn == Turn("成员校能提前退出吗？", ("长沙市",), inherited=True)
    # a new question that names its own city starts afresh, and the filter always wins
    assert resolve("青岛的合作期限是多久？", first, CITIES) == Turn("青岛的合作期限是多久？", ("青岛市",))
    assert resolve("那长沙呢？", first, CITIES, selected=["南昌市"]).cities == ("南昌市",)
    # no previous turn, or a place the corpus does not cover: nothing inherited
    assert resolve("成员校能提前退出吗？", None, CITIES) == Turn("成员校能提前退出吗？", ())
    assert resolve("北京的合作期限是多久？", first, CITIES).cities == ()


def test_is_follow_up_only_for_bare_city_questions():
    assert is_follow_up("那长沙呢？", CITIES) and is_follow_up("青岛呢", CITIES)
    assert not is_follow_up("长沙的合作期限是多久？", CITIES) and not is_follow_up("那呢？", CITIES)


def test_quote_is_highlighted_inside_the_escaped_clause():
    assert highlight("甲<b>乙</b>丙。", "<b>乙</b>") == "甲<mark>&lt;b&gt;乙&lt;/b&gt;</mark>丙。"
    assert highlight("甲乙丙。", "不在其中") == "甲乙丙。"


def test_citation_card_shows_title_number_city_clause_and_draft_badge():
    card = citation_card(_citation(status="draft"), "k")
    assert card.startswith('<details class="pa-card" id="cite-k-1"')
    for part in ("关于进一步优化基础教育集团化办学的指导意见", "长教通〔2020〕97号", "长沙市", '<span class="pa-level">市级</span>',
                 "限定合作时间", "征求意见稿",
                 "<mark>集团化学校合作时限一般为六年。</mark>"):
        assert part in card
    assert "正式文件" not in citation_card(_citation(), "k")


def test_answer_markers_link_to_their_cards_and_all_text_is_inert():
    c = _citation(text=f"条款{EVIL}。合作时限一般为六年。", quote="合作时限一般为六年。", title=EVIL)
    answer = Answer(question=EVIL, answer=f"「合作时限一般为六年。」[1] {EVIL} [9]", abstained=False,
                    citations=(c,), notices=(EVIL,))
    html = answer_html(answer, "t1")
    assert '<a class="pa-ref" href="#cite-t1-1"' in html and 'id="cite-t1-1"' in html
    assert "[9]" in html and "#cite-t1-9" not in html  # no card, no link
    assert "<img" not in html and "<script" not in html and "&lt;img src=x" in html
    assert "\n\n" not in html  # one HTML block for Markdown renderers


def test_abstention_is_a_visible_state_and_plain_text_keeps_citations():
    html = answer_html(Answer(question="北京？", answer="语料中没有北京的文件。", abstained=True), "a")
    assert 'class="pa-abstain"' in html and "未找到依据" in html
    plain = answer_plain(Answer(question="q", answer="「合作时限一般为六年。」[1]", abstained=False,
                                citations=(_citation(),)))
    assert "[1] 长沙市·市级｜《关于进一步优化基础教育集团化办学的指导意见》（长教通〔2020〕97号）" in plain


def test_comparison_table_has_one_column_per_city_and_marks_silence():
    from assistant.answering.compare import CityCell, Comparison, Figure
    from assistant.interfaces.web.views import comparison_html

    c = _citation(title=EVIL)
    cells = (CityCell("长沙市", "specified", (c,), (Figure("一般为六年", "六年", 6.0, "年", 1),)),
             CityCell("青岛市", "not_specified", (), (), reason=f"青岛市没有{EVIL}"))
    html = comparison_html(Comparison("合作期限", "term", "合作期限", cells))
    assert "<th>长沙市</th><th>青岛市</th>" in html and "未作规定" in html and "一般为六年[1]" in html
    assert "<img" not in html and "<script" not in html and "pa-abstain" not in html
    silent = comparison_html(Comparison("q", None, "q", (cells[1],)))
    assert "pa-abstain" in silent and "未找到依据" in silent


def test_document_viewer_and_charter_report_escape_their_text():
    from assistant.charter.check import CharterReport, RequirementResult
    from assistant.corpus.plan import DocumentInfo
    from assistant.charter.requirements import Requirement, Source
    from assistant.interfaces.web.views import charter_html, document_html

    class Record:
        clause, text, chunk_id = f"一、{EVIL} › 1. 条", f"正文{EVIL}", "abc"

    html = document_html(DocumentInfo(doc_id="d", title=EVIL, city="长沙市", status="draft"), [Record()])
    assert "<img" not in html and "<script" not in html and "征求意见稿" in html and "pa-doc-clause" in html
    req = Requirement(id="r1", jurisdiction="长沙市", kind="limit", topic="t", summary=EVIL,
                      source=Source(doc_id="d", clause="c", quote=EVIL, title=EVIL), cues=(("x",),))
    report = CharterReport("长沙市", None, (RequirementResult(req, "conflict", evidence=EVIL, note=EVIL),
                                          RequirementResult(req, "met", evidence="x")))
    html = charter_html(report)
    assert "<img" not in html and "<script" not in html and "冲突 1" in html and "符合 1" in html
    assert html.index("pa-req-conflict") < html.index("pa-req-met")


def test_the_conclusion_comes_first_one_line_per_city_with_its_links():
    cites = (_citation(1), _citation(2, title="青岛意见"))
    answer = Answer(question="q", answer="「合作时限一般为六年。」[1]", abstained=False, citations=cites,
                    conclusion=f"长沙市：合作时限一般为六年[1]\n青岛市：{EVIL}[2]")
    html = answer_html(answer, "k")
    lines = re.findall(r'<div class="pa-conclusion-line">(.*?)</div>', html)
    assert len(lines) == 2 and '<a class="pa-ref" href="#cite-k-1"' in lines[0] and "#cite-k-2" in lines[1]
    assert html.index("pa-conclusion") < html.index("pa-text-answer") and "<img" not in html
    assert "pa-conclusion" not in answer_html(Answer(question="q", answer="a", abstained=False, citations=cites), "k")
    plain = answer_plain(answer)
    assert plain.startswith("结论：长沙市：合作时限一般为六年[1]\n结论：青岛市：")


def test_each_card_links_to_its_clause_in_the_reader_and_each_answer_carries_its_copy_text():
    c = _citation()
    card = citation_card(c, "k")
    assert '<a class="pa-open-doc" href="#pa-doc/changsha/c1">在文档库中查看原文' in card
    html = answer_html(Answer(question="q", answer="「合作时限」[1]", abstained=False, citations=(c,)), "k")
    copied = re.search(r'<span class="pa-plain">(.*?)</span>', html).group(1)
    assert "[1] 长沙市·市级｜" in copied and "&#10;" in copied and "\n" not in copied  # one Markdown HTML block
    assert 'id="answer-k"' in html  # what the page scrolls to when the answer arrives
    from assistant.interfaces.web.views import pending_html

    assert "正在检索条款" in pending_html("正在检索条款……") and "processing" not in pending_html("正在检索条款……")


def test_comparison_and_overview_have_one_card_per_city_for_phones():
    from assistant.answering.compare import CityCell, Comparison, Figure, Matrix
    from assistant.interfaces.web.views import comparison_html, matrix_html

    cells = (CityCell("长沙市", "specified", (_citation(),), (Figure("一般为六年", "六年", 6.0, "年", 1),)),
             CityCell(EVIL, "not_specified", (), (), reason="没有"))
    html = comparison_html(Comparison("合作期限", "term", "合作期限", cells))
    cards = html[html.index('<div class="pa-city-cards">'):]
    assert cards.count('class="pa-city-card"') == 2 and "一般为六年[1]" in cards and "未作规定" in cards
    assert '<div class="pa-scroll pa-wide">' in html and "<img" not in html
    matrix = Matrix(("长沙市", "青岛市"), (Comparison("合作期限", "term", "合作期限", (cells[0], CityCell(
        "青岛市", "not_specified", (), ()))),))
    overview = matrix_html(matrix)
    assert overview.count('class="pa-city-card"') == 2 and 'class="pa-topic">合作期限' in overview


def test_charter_requirement_ids_are_not_shown_but_kept_for_tooling():
    from assistant.charter.check import CharterReport, RequirementResult
    from assistant.charter.requirements import Requirement, Source
    from assistant.interfaces.web.views import charter_html

    req = Requirement(id="cs-joint-exam", jurisdiction="长沙市", kind="limit", topic="t", summary="联合考试",
                      source=Source(doc_id="d", clause="c", quote="q", title="t"), cues=(("x",),))
    html = charter_html(CharterReport("长沙市", None, (RequirementResult(req, "missing"),)))
    visible = re.sub(r"<[^>]+>", "", html)
    assert "cs-joint-exam" not in visible and 'data-req="cs-joint-exam"' in html


def test_the_reader_marks_the_clause_a_citation_points_at():
    from assistant.corpus.plan import DocumentInfo
    from assistant.interfaces.web.views import document_html

    class Record:
        def __init__(self, chunk_id):
            self.clause, self.text, self.chunk_id = "一、条", "正文", chunk_id

    html = document_html(DocumentInfo(doc_id="d", title="t", city="长沙市", status="official"),
                         [Record("a"), Record("b")], focus="b")
    assert html.count("pa-focus") == 1 and 'pa-doc-clause pa-focus" id="clause-b"' in html


def test_feedback_and_metrics_render_user_text_inert():
    from assistant.interfaces.web.store import Feedback
    from assistant.interfaces.web.views import feedback_html, ingest_results_html, metrics_html

    item = Feedback(id=1, owner="o", conversation="c", seq=0, rating="down", reasons=("引用有误",), comment=EVIL,
                    question=EVIL, answer=EVIL, abstained=False, mode="extractive", cities=("长沙市",),
                    citations=({"city": "长沙市", "title": EVIL, "clause": "c"},), corpus_hash="c0ffee00aa",
                    created=0.0)
    html = feedback_html([item])
    assert "<img" not in html and "<script" not in html and html.count("&lt;img src=x") == 4
    assert "踩（有问题）" in html and "引用有误" in html and "c0ffee00" in html
    assert "没有符合条件" in feedback_html([])
    row = {"name": EVIL, "help": "说明", "now": "0.9", "heldout": "—", "before": "0.8", "change": "+0.1 变好",
           "better": True}
    assert "<img" not in metrics_html([row], EVIL) and "pa-up" in metrics_html([row], "s")
    results = ingest_results_html([("a.txt", True, "已导入"), (EVIL, False, "无法解析")])
    assert "成功 1 个" in results and "<img" not in results and "未导入" in results


def test_version_diff_marks_changes_and_escapes_text():
    from dataclasses import replace

    from assistant.chunking.diff import VersionDiff, diff_texts
    from assistant.interfaces.web.views import diff_html

    old = "第一条 合作期限一般为六年。\n第二条 成员校<b>退出</b>须经同意。"
    new = "第一条 合作期限一般为五年。\n第三条 新增条款。"
    page = diff_html(VersionDiff({"doc_id": "a", "title": "旧<i>"}, {"doc_id": "b", "title": "新"},
                                 diff_texts(old, new)))
    assert '<del class="pa-diff-del">六</del><ins class="pa-diff-ins">五</ins>' in page
    assert 'data-kind="removed"' in page and 'data-kind="added"' in page
    assert "&lt;b&gt;退出&lt;/b&gt;" in page and "旧&lt;i&gt;" in page and "<b>" not in page
    cite = _citation()
    assert "已修正" in citation_card(replace(cite, force="amended"), "k")
    assert "已修正" not in citation_card(replace(cite, force="in_force"), "k")
