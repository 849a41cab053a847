"""Cross-city comparison: figures (pure), the hand-verified matrix of the bundled corpus, routing of
`ask`, and the `compare` command's formats."""
from __future__ import annotations

import csv
import io
import json

import pytest

from assistant.interfaces.cli.main import main
from assistant.answering.compare import NOT_SPECIFIED, SPECIFIED, extract_figures, is_comparison
from assistant.domain.topics import TOPICS, find_topic

from tests.conftest import CORPUS, fresh_index, save_cache

pytestmark = pytest.mark.unit  # tests marked integration below override it

CITIES = ("南昌市", "郑州市中原区", "长沙市", "青岛市")


def test_figures_keep_the_clause_wording_and_read_both_numeral_kinds():
    text = ("集团化学校合作时限一般为六年，根据需要可适当延长，延长时间原则上不超过六年。"
            "每所优质学校集团化办学规模应控制在10所左右。每学期不少于8次。到2022年底，覆盖率达到80%。"
            "一所城镇学校牵头，建立“五个一”工作制度。")
    figures = extract_figures(text, 3)
    assert [(f.number, f.value, f.unit) for f in figures] == [
        ("六年", 6, "年"), ("六年", 6, "年"), ("10所", 10, "所"), ("8次", 8, "次"), ("2022年", 2022, "年"),
        ("80%", 80, "%")]
    assert figures[0].text == "集团化学校合作时限一般为六年" and {f.n for f in figures} == {3}
    assert all(f.text in text for f in figures)  # verbatim phrases only


def test_topics_cover_the_catalogue_and_are_found_from_questions():
    labels = {t.label for t in TOPICS}
    assert {"组建与审批", "成员校纳新", "退出与终止", "合作期限", "规模控制", "章程与制度", "管理体制与模式",
            "教师交流轮岗", "经费保障", "考核评价", "招生", "校名与品牌", "课程与教研", "学生培养",
            "发展目标与覆盖率"} <= labels
    assert all(t.description and t.query and t.signature for t in TOPICS)
    assert find_topic("各地对成员校退出有什么不同规定？").key == "exit"
    assert find_topic("长沙和青岛在经费保障上有什么区别？").key == "funding"
    assert find_topic("合作期限").key == "term"
    assert is_comparison("各地对成员校退出有什么不同规定？", ())
    assert is_comparison("退出要什么程序？", ("长沙市", "青岛市"))
    assert not is_comparison("长沙的合作期限是多久？", ("长沙市",))


@pytest.fixture(scope="module")
def matrix(assistant):
    return assistant.compare_matrix()


def _cell(matrix, label, city):
    row = next(r for r in matrix.rows if r.topic == label)
    return next(c for c in row.cells if c.city == city)


# Hand-verified against the documents: which cities' texts address each topic.
EXPECTED = {
    "退出与终止": {"南昌市": SPECIFIED, "郑州市中原区": NOT_SPECIFIED, "长沙市": SPECIFIED, "青岛市": SPECIFIED},
    "合作期限": {"南昌市": NOT_SPECIFIED, "郑州市中原区": NOT_SPECIFIED, "长沙市": SPECIFIED, "青岛市": NOT_SPECIFIED},
    "章程与制度": {c: SPECIFIED for c in CITIES},
    "经费保障": {"南昌市": SPECIFIED, "郑州市中原区": SPECIFIED, "长沙市": NOT_SPECIFIED, "青岛市": SPECIFIED},
    "教师交流轮岗": {c: SPECIFIED for c in CITIES},
    "发展目标与覆盖率": {"南昌市": SPECIFIED, "郑州市中原区": SPECIFIED, "长沙市": NOT_SPECIFIED, "青岛市": SPECIFIED},
}


@pytest.mark.integration
@pytest.mark.parametrize("label", list(EXPECTED))
def test_matrix_matches_hand_verified_expectations(matrix, label):
    assert set(matrix.cities) == set(CITIES) and len(matrix.rows) == len(TOPICS)
    for city, status in EXPECTED[label].items():
        cell = _cell(matrix, label, city)
        assert cell.status == status, (label, city, [c.clause for c in cell.citations])
        if status == SPECIFIED:
            assert cell.citations and all(c.city == city and c.quote in c.text for c in cell.citations)
        else:
            assert not cell.citations and label in cell.reason


@pytest.mark.integration
def test_matrix_cells_quote_the_governing_clauses(matrix):
    term = _cell(matrix, "合作期限", "长沙市")
    assert "合作时限一般为六年" in term.citations[0].quote
    assert any("不超过六年" in f.text for f in term.figures) and any(f.number == "六年" for f in term.figures)
    exit_qd = _cell(matrix, "退出与终止", "青岛市")
    assert "经核心校所属教育行政部门同意后可退出教育集团" in exit_qd.citations[0].quote
    assert exit_qd.citations[0].doc_id == "qingdao-yijian"  # the normative text, not its interpretation
    charter_zy = _cell(matrix, "章程与制度", "郑州市中原区")
    assert any("章程" in c.quote for c in charter_zy.citations)
    assert all(c.status == "draft" for c in charter_zy.citations)
    rotation_nc = _cell(matrix, "教师交流轮岗", "南昌市")
    assert any("轮岗" in c.text or "走教" in c.text for c in rotation_nc.citations)


@pytest.mark.integration
def test_ask_routes_comparisons_and_marks_silent_cities(assistant):
    answer = assistant.ask("各地对成员校退出有什么不同规定？")
    assert not answer.abstained and {c.city for c in answer.citations} == {"南昌市", "长沙市", "青岛市"}
    assert "【郑州市中原区】\n未作规定" in answer.answer
    for c in answer.citations:  # every marker refers to a citation, every quote is verbatim
        assert f"「{c.quote}」[{c.n}]" in answer.answer and c.quote in c.text
    two = assistant.ask("长沙和青岛在经费保障上有什么区别？")
    assert [c.city for c in two.citations] == ["青岛市"] and "【长沙市】\n未作规定" in two.answer


@pytest.mark.integration
def test_compare_with_a_free_question_retrieves_per_city(assistant):
    comparison = assistant.compare("核心校派到成员校任职的干部教师交通费由谁承担？", cities=["南昌市", "青岛市"])
    assert [c.city for c in comparison.cells] == ["南昌市", "青岛市"]
    assert comparison.to_dict()["cities"][0]["status"] in (SPECIFIED, NOT_SPECIFIED)
    texts = " ".join(c.text for c in comparison.citations)
    assert "交通" in texts


@pytest.mark.integration
def test_compare_command_formats(tmp_path, shared_cache, monkeypatch, capsys):
    index_dir = fresh_index(tmp_path, shared_cache)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(CORPUS))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_dir))
    assert main(["compare", "合作期限", "--city", "长沙市", "--city", "郑州市中原区", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    save_cache(index_dir, shared_cache)
    assert data["topic"] == "合作期限"
    assert [(c["city"], c["status"]) for c in data["cities"]] == [("长沙市", SPECIFIED),
                                                                   ("郑州市中原区", NOT_SPECIFIED)]
    changsha = data["cities"][0]
    assert changsha["citations"][0]["clause"].endswith("限定合作时间") and changsha["figures"]
    assert {"n", "text", "number"} <= set(changsha["figures"][0])

    assert main(["compare", "退出与终止", "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:2] == ["城市", "状态"] and ["郑州市中原区", "未作规定"] == rows[[r[0] for r in rows].index(
        "郑州市中原区")][:2]

    assert main(["compare", "--matrix", "--markdown"]) == 0
    table = capsys.readouterr().out
    assert table.count("\n|") >= len(TOPICS) + 1 and "| 合作期限 |" in table

    assert main(["compare", "退出", "--city", "北京市"]) == 2
    assert "北京市" in capsys.readouterr().err


def test_a_comparison_question_cites_what_answers_not_the_first_clause_naming_its_topic(assistant):
    # "成立…决策议事机构" falls under the 组建 topic by its words (成立), but the clause that first names 成立 is about
    # founding a group; where a city's documents answer the question, the ranking chooses the clause
    answer = assistant.ask("南昌和青岛分别要求集团成立什么样的决策议事机构？")
    qingdao = [c.quote for c in answer.citations if c.city == "青岛市"]
    assert qingdao and "决策议事机构" in qingdao[0], qingdao
    # and both cities are still answered
    assert {c.city for c in answer.citations} == {"南昌市", "青岛市"}
