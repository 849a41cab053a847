"""Questions about a document itself are answered from its catalogue entry, or refused when it is silent."""
from __future__ import annotations

import pytest

from assistant.answering.metadata import answer_about_document, pick_document
from assistant.domain.values import Answer
from assistant.retrieval.analysis import analyse

pytestmark = pytest.mark.unit

DOCS = {
    "cs": {"title": "关于进一步优化基础教育集团化办学的指导意见", "short_title": "长沙集团化办学指导意见", "city": "长沙市",
           "issuer": "长沙市教育局", "doc_number": "长教通〔2020〕97号", "date": "2020-12-08", "status": "official"},
    "qd": {"title": "关于推进中小学集团化办学的意见", "short_title": "青岛集团化办学意见", "city": "青岛市",
           "issuer": "青岛市教育局", "doc_number": None, "date": None, "status": "official"},
    "qdj": {"title": "青岛市《关于推进中小学集团化办学的意见》解读", "short_title": "青岛意见解读", "city": "青岛市",
            "issuer": "青岛市教育局", "doc_number": None, "date": None, "status": "interpretation", "interprets": "qd"},
}


def _refuse(reason):
    return Answer(question="q", answer=reason, abstained=True)


def _ask(question, cities=()):
    return answer_about_document(question, analyse(question, ("长沙市", "青岛市")), DOCS, cities, _refuse)


def test_a_field_the_catalogue_holds_is_answered_and_cited_as_the_information_block():
    answer = _ask("长沙集团化办学指导意见的文号是多少？", ("长沙市",))
    assert not answer.abstained and "长教通〔2020〕97号" in answer.conclusion
    assert answer.citations[0].clause == "文件信息" and answer.citations[0].quote in answer.citations[0].text


def test_a_field_the_catalogue_does_not_hold_is_not_guessed():
    answer = _ask("青岛推进中小学集团化办学的意见的文号是多少？", ("青岛市",))
    assert answer.abstained and "没有文号" in answer.answer


def test_the_interpretation_is_picked_when_asked_about_and_names_what_it_explains():
    assert pick_document(analyse("青岛那份解读解读的是哪份文件？", ()), DOCS, ("青岛市",)) == "qdj"
    answer = _ask("青岛那份解读解读的是哪份文件？", ("青岛市",))
    assert "《关于推进中小学集团化办学的意见》" in answer.conclusion
    # the explained document is cited too, so the reader can open it
    assert [c.doc_id for c in answer.citations] == ["qdj", "qd"] and answer.citations[1].n == 2
    assert answer.citations[1].quote in answer.citations[1].text and "[2]" in answer.answer
    assert [c.doc_id for c in _ask("长沙集团化办学指导意见的文号是多少？", ("长沙市",)).citations] == ["cs"]


def test_an_english_question_finds_the_document_it_names_and_a_places_only_document():
    assert _ask("What is the document number of Changsha's guiding opinion?", ("长沙市",)).conclusion == \
        "长沙市：文号：长教通〔2020〕97号[1]"
    # the interpretation quotes the opinion's title: asked about the opinions, the opinions are meant
    assert pick_document(analyse("Who issued Qingdao's opinions on group-based schooling?", ()), DOCS,
                         ("青岛市",)) == "qd"
    assert pick_document(analyse("Who issued the interpretation of Qingdao's opinions?", ()), DOCS,
                         ("青岛市",)) == "qdj"
    # no title word named at all: the place's only document
    assert pick_document(analyse("When was it issued in Changsha?", ()), DOCS, ("长沙市",)) == "cs"
    assert pick_document(analyse("When was it issued?", ()), DOCS, ("青岛市",)) is None


def _record(doc_id, clause, text, ordinal):
    from assistant.index.records import ChunkRecord

    meta = DOCS[doc_id]
    return ChunkRecord(f"{doc_id}#{ordinal}", doc_id, meta["city"], meta["title"], meta["doc_number"], meta["status"],
                       clause, text, ordinal, 0, 1)


def test_when_it_takes_effect_is_read_from_the_documents_own_closing_article():
    records = (_record("cs", "一、总体要求", "自2021年起，各区县要逐步推进集团化办学。", 0),
               _record("cs", "五、附则", "本意见由市教育局负责解释。本文件自2021年1月1日起施行。", 1),
               _record("qd", "五、附则", "本意见由市教育局负责解释。", 0))
    question = "长沙集团化办学指导意见从哪天起施行？"
    answer = answer_about_document(question, analyse(question, ("长沙市", "青岛市")), DOCS, ("长沙市",), _refuse,
                                   records)
    assert not answer.abstained and [c.clause for c in answer.citations] == ["五、附则"]
    assert answer.citations[0].quote == "本文件自2021年1月1日起施行。" and "2021年1月1日起施行[1]" in answer.conclusion
    # neither the catalogue nor the text says it: said so, never a clause that merely shares the words
    question = "青岛集团化办学意见什么时候生效？"
    answer = answer_about_document(question, analyse(question, ("长沙市", "青岛市")), DOCS, ("青岛市",), _refuse,
                                   records)
    assert answer.abstained and "都没有写明施行日期" in answer.answer
    # with an issue date on file, that date is shown and labelled as such, without a conclusion line
    dated = {**DOCS, "qd": {**DOCS["qd"], "date": "2019-06-01"}}
    answer = answer_about_document(question, analyse(question, ("长沙市", "青岛市")), dated, ("青岛市",), _refuse,
                                   records)
    assert not answer.abstained and "2019-06-01[1]" in answer.answer and "以上为文件所署日期" in answer.answer
    assert answer.conclusion == ""


def test_a_catalogued_day_of_taking_effect_is_shown_with_the_documents_own_sentence():
    records = (_record("cs", "五、附则", "本意见由市教育局负责解释。本文件自2021年1月1日起施行。", 0),)
    catalogued = {**DOCS, "cs": {**DOCS["cs"], "effective_date": "2021-01-01"}}
    question = "长沙集团化办学指导意见从哪天起施行？"
    answer = answer_about_document(question, analyse(question, ("长沙市", "青岛市")), catalogued, ("长沙市",),
                                   _refuse, records)
    assert [c.clause for c in answer.citations] == ["文件信息", "五、附则"]
    assert answer.citations[1].quote == "本文件自2021年1月1日起施行。" and answer.citations[1].n == 2
    assert answer.conclusion == "长沙市：施行日期：2021-01-01[1]；本文件自2021年1月1日起施行[2]"
    # a text that does not say it: the catalogue's date alone
    answer = answer_about_document(question, analyse(question, ("长沙市", "青岛市")), catalogued, ("长沙市",),
                                   _refuse, records[:0])
    assert len(answer.citations) == 1 and answer.conclusion == "长沙市：施行日期：2021-01-01[1]"
