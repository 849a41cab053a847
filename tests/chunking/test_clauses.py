"""Clause-aware chunking on the real documents of every city (and on law texts nobody here wrote)."""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys

import pytest

from assistant.chunking.clauses import (PREAMBLE, chunk_document, clauses, clean_line, normalize, paragraphs,
                                split_sentences)
from assistant.corpus.manifest import load_corpus
from assistant.domain.values import PATH_SEPARATOR
from assistant.domain.segment import count_tokens, words

from tests.conftest import CORPUS, LAWS

pytestmark = pytest.mark.unit  # tests marked integration below override it

DOCS = {d.doc_id: d for d in load_corpus(CORPUS)}


def chunks_of(doc_id: str, max_tokens: int = 200):
    return chunk_document(doc_id, DOCS[doc_id].text, max_tokens)


def by_clause(doc_id: str) -> dict[str, str]:
    return {c.clause: c.text for c in chunks_of(doc_id)}


def test_changsha_lead_phrases_become_the_deepest_path_segment():
    clause = by_clause("changsha-jituan-2020")["三、主要举措 › 5. 构建退出机制 › 限定合作时间"]
    assert clause.startswith("限定合作时间。集团化学校合作时限一般为六年")
    assert "延长时间原则上不超过六年" in clause


def test_changsha_spaces_inside_numbers_are_removed_but_dotted_markers_keep_theirs():
    clause = by_clause("changsha-jituan-2020")["三、主要举措 › 1. 统筹规划布局 › 控制集团化办学规模"]
    assert "控制在10所左右" in clause and "从2021年起全部退出" in clause
    assert "五、本文件自2021年1月1日起施行" in by_clause("changsha-jituan-2020")


def test_nanchang_broken_lines_are_rejoined_and_bold_markers_dropped():
    texts = by_clause("nanchang-jituan-2021")
    cooperative = texts["二、主要任务 › （一）优化办学模式 › 2. 强化合作发展型教育集团"]
    assert "以签订委托管理协议的形式明确各方的责、权、利" in cooperative
    assert "**" not in "".join(texts.values())
    assert "1. 扩大集团化办学覆盖范围。按照优质资源扩容总体要求" in \
        texts["一、总体要求 › （二）总体目标 › 1. 扩大集团化办学覆盖范围"]
    funding = texts["三、保障措施 › （二）强化发展保障"]
    assert "由成员校（或所属教育行政部门）向核心校支付协议费用" in funding


def test_nanchang_exit_clause_path():
    texts = by_clause("nanchang-jituan-2021")
    assert "经双方协商后退出教育集团" in texts["二、主要任务 › （二）强化集团管理 › 3. 成员校退出"]


def test_zhongyuan_draft_clauses_and_enumerated_leads_with_commas():
    texts = by_clause("zhongyuan-jituan-draft")
    assert "一个章程、一套管理制度、一个三年发展规划、一份学年工作计划、一个教科研攻关项目" in \
        texts["四、主要举措 › （三）建立教育集团工作制度"]
    assert "五、实施要求 › （一）高度重视，完善机制" in texts
    assert "经集团各成员校通过后在区教育局备案" in texts["五、实施要求 › （一）高度重视，完善机制"]
    # the yearly targets are body text of 二、工作目标, not "2022." headings
    assert "2022年创建不少于4个市级公办中小学优质教育集团" in texts["二、工作目标"]


def test_qingdao_interpretation_and_normative_text_are_separate_documents():
    normative = by_clause("qingdao-yijian")
    interpretation = by_clause("qingdao-jiedu")
    assert "经核心校所属教育行政部门同意后可退出教育集团" in normative["四、管理体制机制 › （五）教育集团退出"]
    assert "一、《意见》出台背景 › 部分学校试点先行" in interpretation
    assert "一、《意见》出台背景 › 落实“学深圳赶深圳”要求" in interpretation
    # "组成\n的教育共同体" in the source is one sentence
    assert "由一所核心校和若干所成员校组成的教育共同体" in interpretation["二、《意见》主要内容 › （一）集团化办学界定"]
    assert "三、基本模式 › （一）融合型 › 1. 融合复制型" in normative


def test_nanchang_community_parenthetical_notes_stay_with_their_clause():
    texts = by_clause("nanchang-gongtongti")
    assert not any("牵头科室" in path.split(PATH_SEPARATOR)[-1] for path in texts)
    assert "（牵头科室：义教科，责任科室：组人科、评测中心）" in texts["三、主要任务 › （一）组织管理系统化"]
    assert "每学期不少于8次" in texts["三、主要任务 › （三）教师研训一体化"]


@pytest.mark.parametrize("doc_id", sorted(DOCS))
def test_every_chunk_is_nonempty_verbatim_and_not_a_lone_heading(doc_id):
    normalized = normalize(DOCS[doc_id].text)
    chunks = chunks_of(doc_id)
    assert chunks
    for c in chunks:
        assert c.text.strip()
        assert c.path and all(seg.strip() for seg in c.path)
        for line in c.text.split("\n"):
            assert line in normalized, f"not verbatim: {line[:40]}"
        assert not is_lone_heading(c), f"a heading without its body: {c.clause}"


def is_lone_heading(chunk) -> bool:
    """A chunk whose text is only its own heading ("限定合作时间。"); a heading that is itself a whole
    sentence ("五、本文件自2021年1月1日起施行。") is a clause, not a lone heading."""
    text = chunk.text.strip().rstrip("。")
    heading = chunk.path[-1]
    return text == heading and len(re.sub(r"^[一二三四五六七八九十]+、|^（[一二三四五六七八九十]+）", "", heading)) <= 12


def test_the_lone_heading_check_catches_a_lone_heading():
    from assistant.domain.values import Chunk

    assert is_lone_heading(Chunk("x", "d", ("三、主要举措", "限定合作时间"), "限定合作时间。", 0))
    assert is_lone_heading(Chunk("x", "d", ("（二）聚合型",), "（二）聚合型", 0))
    assert not is_lone_heading(Chunk("x", "d", ("五、本文件自2021年1月1日起施行",), "五、本文件自2021年1月1日起施行。", 0))
    assert not is_lone_heading(Chunk("x", "d", ("限定合作时间",), "限定合作时间。合作时限一般为六年。", 0))


@pytest.mark.parametrize("doc_id", sorted(DOCS))
def test_no_body_text_is_lost(doc_id):
    """Every sentence-bearing paragraph after the front matter lands in exactly one chunk."""
    joined = "\n".join(c.text for c in chunks_of(doc_id))
    for p in paragraphs(DOCS[doc_id].text):
        if "。" in p.text and len(p.text) > 20:
            assert p.text in joined or all(s in joined for s in split_sentences(p.text) if s.strip()), \
                p.text[:40]


def test_chunk_ids_are_unique_and_stable_across_processes():
    ids = {d: [c.chunk_id for c in chunks_of(d)] for d in sorted(DOCS)}
    assert all(len(set(v)) == len(v) for v in ids.values())
    # another interpreter (another hash seed) derives the same ids: an index built yesterday stays valid
    code = ("import sys, json; from assistant.corpus.manifest import load_corpus; from assistant.chunking.clauses "
            "import chunk_document; from pathlib import Path; print(json.dumps({d.doc_id: [c.chunk_id for c in "
            "chunk_document(d.doc_id, d.text)] for d in load_corpus(Path(sys.argv[1]))}))")
    out = subprocess.run([sys.executable, "-c", code, str(CORPUS)], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert json.loads(out.stdout) == ids, out.stderr[-300:]


def test_editing_one_clause_changes_only_that_chunk_id():
    text = DOCS["changsha-jituan-2020"].text
    edited = text.replace("延长时间原则上不超过六年", "延长时间原则上不超过五年")
    before = {c.chunk_id for c in chunk_document("changsha-jituan-2020", text)}
    after = {c.chunk_id for c in chunk_document("changsha-jituan-2020", edited)}
    assert len(before - after) == 1 and len(after - before) == 1


def test_long_clauses_split_at_sentence_ends_within_the_token_budget():
    chunks = chunks_of("zhongyuan-jituan-draft", max_tokens=80)
    parts = [c for c in chunks if c.parts > 1]
    assert parts, "the long management-system clause must be split"
    by_path: dict[tuple, list] = {}
    for c in parts:
        by_path.setdefault(c.path, []).append(c)
    for path, group in by_path.items():
        for c in group:
            assert c.text[-1] in "。；！？", "a part ends at a sentence end"
            sentences = split_sentences(c.text)
            assert count_tokens(c.text) <= 80 or len(sentences) == 1
        # the parts together are the whole clause
        whole = clauses(DOCS["zhongyuan-jituan-draft"].text)
        source = next(cl.text for cl in whole if cl.path == path)
        assert "".join(c.text for c in group).replace("\n", "") == source.replace("\n", "")


def test_split_points_never_fall_inside_a_jieba_word():
    chunks = chunks_of("nanchang-gongtongti", max_tokens=60)
    for path in {c.path for c in chunks if c.parts > 1}:
        group = [c for c in chunks if c.path == path]
        whole = "".join(c.text for c in group)
        boundaries, offset = set(), 0
        for w in words(whole):
            offset += len(w)
            boundaries.add(offset)
        offset = 0
        for c in group[:-1]:
            offset += len(c.text)
            assert offset in boundaries


def test_in_text_references_and_list_items_are_not_headings():
    text = ("第一条 为了规范集团化办学，制定本办法。\n"
            "第二条 教育行政部门应当履行下列职责：\n"
            "（一）制定集团化办学规划，并组织实施；\n"
            "（二）审批教育集团的成立；\n"
            "第三条规定的事项，由市教育局负责解释。\n"
            "第三条 本办法自发布之日起施行。\n")
    result = clauses(text)
    paths = [c.path for c in result]
    assert ("第二条",) in paths and ("第三条",) in paths
    article2 = next(c.text for c in result if c.path == ("第二条",))
    assert "（一）制定集团化办学规划" in article2 and "（二）审批教育集团的成立" in article2
    assert ("第三条规定的事项，由市教育局负责解释。" in next(c.text for c in result if c.path == ("第二条",)))


def test_clean_line_normalizes_markup_and_spaces_but_keeps_latin_words():
    assert clean_line("  **控制在 10 所左右。**  ") == "控制在10所左右。"
    assert clean_line("2021 年 1 月") == "2021年1月"
    assert clean_line("思想 and 党的") == "思想 and 党的"
    assert clean_line("第一条　为了") == "第一条为了"


def test_preamble_is_kept_and_front_matter_is_not_a_clause():
    texts = by_clause("changsha-jituan-2020")
    assert "经研究，印发《关于进一步优化基础教育集团化办学的指导意见》" in texts[PREAMBLE]
    assert not any("长教通〔2020〕97号" == t for t in texts.values())


def _law_files(n: int) -> list:
    files = sorted(LAWS.rglob("*.md"))
    files = [f for f in files if f.name != "ABOUT.md"]
    return random.Random(7).sample(files, min(n, len(files)))


def test_law_articles_from_the_shared_laws_are_chunked_without_loss():
    """Real laws nobody here wrote (../shared/laws): every 第X条 heads a clause; no article text is lost."""
    files = _law_files(120)
    assert files, f"laws not found at {LAWS}"
    checked = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        chunks = chunk_document(path.stem, text, max_tokens=200)
        body = text.split("<!-- INFO END -->", 1)[-1]
        articles = re.findall(r"^(第[一二三四五六七八九十百零〇\d]+条)[\s\u3000]", body, flags=re.M)
        paths = {seg for c in chunks for seg in c.path}
        missing = [a for a in articles if a not in paths]
        assert not missing, f"{path.name}: articles without a clause: {missing[:5]}"
        joined = "".join(c.text for c in chunks).replace("\n", "")
        for line in body.splitlines():
            line = clean_line(line.lstrip("#"))
            if "。" in line and re.match(r"^第[一二三四五六七八九十百零〇\d]+条", line):
                assert line in joined, f"{path.name}: lost {line[:30]}"
        assert all(c.text.strip() for c in chunks)
        checked += 1
    assert checked >= 50
