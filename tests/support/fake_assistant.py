"""A stand-in for the facade, for testing the HTTP layer in-process without a model or an index: it answers
with fixed values of the real types, keeps its documents in a dict, and records every call, so a test can
assert that a refused request changed (and called) nothing."""
from __future__ import annotations

from pathlib import Path

from assistant.answering.compare import CityCell, Comparison, Figure
from assistant.config import Settings
from assistant.corpus.plan import DocumentInfo, IngestReport, RemoveReport
from assistant.domain.values import Answer, Chunk, Citation
from assistant.errors import DocumentNotFoundError, IngestError, QuestionError
from assistant.retrieval.dialogue import resolve

CITE = Citation(chunk_id="c1", doc_id="cs", title="指导意见", city="长沙市", doc_number="长教通〔2020〕97号",
                clause="三、主要举措 › 限定合作时间", status="official",
                text="限定合作时间。集团化学校合作时限一般为六年。<img src=x onerror=alert(1)>",
                score=0.5, n=1, quote="集团化学校合作时限一般为六年。")
DOC = DocumentInfo("cs", "指导意见", "长沙市", "official", doc_number="长教通〔2020〕97号", file="docs/cs.txt",
                   chunks=1)
CLAUSE = Chunk("c1", "cs", ("三、主要举措", "限定合作时间"), "限定合作时间。集团化学校合作时限一般为六年。", 0)


class FakeAssistant:
    cities = ["南昌市", "郑州市中原区", "长沙市", "青岛市"]

    def __init__(self, data_dir: Path, auth: tuple = (), drafts: tuple = ()):
        self.settings = Settings(corpus_dir=data_dir / "corpus", index_dir=data_dir / "index", data_dir=data_dir,
                                 auth=auth)
        self.documents = {"cs": DOC}
        self.drafts = drafts
        self.calls: list[tuple] = []

    # ---------------------------------------------------------------- questions
    def _check(self, question):
        if not question.strip():
            raise QuestionError("问题不能为空，请输入要查询的内容。")

    def follow_up(self, message, previous=None, cities=None):
        return resolve(message, previous, self.cities, cities)

    def ask_stream(self, question, cities=None, mode=None, as_of=None, include_outdated=False):
        self.versions = (as_of, include_outdated)
        self.calls.append(("ask", question, cities, mode))
        self._check(question)
        yield from self.drafts
        yield Answer(question=question, answer="「集团化学校合作时限一般为六年。」[1]\n第二行", abstained=False,
                     citations=(CITE,), cities=tuple(cities or ("长沙市",)), notices=("提示<b>",))

    def ask(self, question, cities=None, mode=None, only_place=False, as_of=None, include_outdated=False):
        self.only_place = only_place
        return list(self.ask_stream(question, cities, mode, as_of, include_outdated))[-1]

    def retrieve(self, question, k=5, cities=None, only_place=False, as_of=None, include_outdated=False):
        self.only_place = only_place
        self.versions = (as_of, include_outdated)
        self.calls.append(("retrieve", question, k, cities))
        self._check(question)
        return [CITE][:k]

    def compare(self, question, cities=None, only_place=False, as_of=None, include_outdated=False):
        self.only_place = only_place
        self.versions = (as_of, include_outdated)
        self.calls.append(("compare", question, cities))
        self._check(question)
        cells = (CityCell("长沙市", "specified", (CITE,), (Figure("一般为六年", "六年", 6.0, "年", 1),)),
                 CityCell("青岛市", "not_specified", (), (), reason="查找了：合作期限"))
        return Comparison("合作期限", "term", question, cells)

    def check_charter(self, text, city, group_type=None):
        from assistant.charter.check import CharterReport

        self.calls.append(("charter", text, city, group_type))
        return CharterReport(city, group_type, ())

    @staticmethod
    def read_draft(path):
        from assistant.charter.io import read_draft

        return read_draft(path)

    # ---------------------------------------------------------------- documents
    def list_documents(self):
        return list(self.documents.values())

    def document(self, doc_id):
        if doc_id not in self.documents:
            raise DocumentNotFoundError(f"找不到文档：{doc_id}")
        return self.documents[doc_id]

    def diff(self, old, new=None):
        from assistant.chunking.diff import VersionDiff, diff_texts
        from assistant.errors import VersionError

        self.calls.append(("diff", old, new))
        if new is None:
            raise VersionError(f"（{old}）没有更新的版本；请同时给出要对比的新版本编号")
        side = {"doc_id": old, "title": "t", "city": "长沙市", "doc_number": None, "status": "official",
                "effective_date": None, "adopted_date": None, "date": None, "force": "amended",
                "force_label": "已修正", "sha256": None, "version": ""}
        return VersionDiff(side, {**side, "doc_id": new, "force": "in_force", "force_label": "现行有效"},
                           diff_texts("第一条 合作期限为六年。", "第一条 合作期限为五年。"))

    def document_outline(self, doc_id):
        self.document(doc_id)
        return [CLAUSE]

    def ingest(self, data, filename=None, overrides=None, replace=None, progress=None, supersedes=None):
        self.calls.append(("ingest", filename, overrides, replace))
        if not data:
            raise IngestError("文件为空，未导入")
        self.documents["new"] = DocumentInfo("new", "新文件", "株洲市", "official", file="docs/new.txt")
        return IngestReport("new", "added", "新文件", "株洲市", "official", 3, 3, 3, 0, 0.1)

    def remove_document(self, doc_id, progress=None):
        self.calls.append(("remove", doc_id))
        info = self.document(doc_id)
        del self.documents[doc_id]
        return RemoveReport(doc_id, info.title, 1, 0.1)

    def writes(self) -> list[tuple]:
        return [c for c in self.calls if c[0] in ("ingest", "remove")]
