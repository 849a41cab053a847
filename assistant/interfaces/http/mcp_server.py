"""The MCP server (the `mcp` SDK): tools ask, retrieve, compare, check_charter, list_documents and get_clause,
each returning the same structured result as the HTTP API (the response models double as the tools' output
schemas), and the documents as resources. Served over stdio (`policy-assistant mcp`) and over streamable HTTP
at /mcp on the web app's server, behind the same credentials as the API."""
from __future__ import annotations

import json
from typing import Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import BaseModel

from assistant.domain.values import status_label
from assistant.errors import AssistantError
from assistant.interfaces.http import schemas

INSTRUCTIONS = ("集团化办学政策助手：检索各地集团化办学政策条款，回答时逐字引用原文（文件、城市、文号、条款路径）。"
                "文件没有规定的问题会明确回答没有找到，不要在引用之外补充内容。")


class Citations(BaseModel):
    citations: list[schemas.CitationOut]


class Documents(BaseModel):
    documents: list[schemas.DocumentOut]


class ClauseMatch(BaseModel):
    document: schemas.DocumentOut
    clauses: list[schemas.ClauseOut]


def _call(fn, *args, **kwargs):
    """A facade call whose user-facing failures reach the client as the tool's Chinese error text."""
    try:
        return fn(*args, **kwargs)
    except AssistantError as exc:
        raise ToolError(str(exc)) from None


def matching_clauses(clauses: list, wanted: str) -> list:
    """Clauses named by a chunk id, a full clause path, or a part of one ("限定合作时间", "三、主要举措")."""
    wanted = wanted.strip()
    for exact in (lambda c: c.chunk_id == wanted, lambda c: c.clause == wanted):
        found = [c for c in clauses if exact(c)]
        if found:
            return found
    return [c for c in clauses if wanted and wanted in c.clause][:20]


def build(assistant) -> MCPServer:
    server = MCPServer("policy-assistant", title="集团化办学政策助手", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(title="提问")
    def ask(question: str, cities: list[str] | None = None,
            mode: Literal["extractive", "llm"] | None = None, as_of: str | None = None) -> schemas.AnswerOut:
        """回答关于集团化办学政策的问题，逐字引用条款（citations）；没有依据时 abstained 为 true。
        cities 限定城市/区县（如 ["长沙市"]），不填则按问题自动识别；as_of（YYYY-MM-DD）按该日期施行的版本回答，
        不填为今天施行的版本。"""
        answer = _call(assistant.ask, question, cities=cities or None, mode=mode, as_of=as_of or None)
        return schemas.AnswerOut.model_validate(answer.to_dict())

    @server.tool(title="检索条款")
    def retrieve(question: str, k: int = 5, cities: list[str] | None = None, as_of: str | None = None) -> Citations:
        """只检索最相关的 k 个政策条款（不组织回答）；as_of（YYYY-MM-DD）只检索该日期施行的版本。"""
        if not 1 <= k <= 50:
            raise ToolError("k 应在 1 到 50 之间。")
        found = _call(assistant.retrieve, question, k=k, cities=cities or None, as_of=as_of or None)
        return Citations.model_validate({"citations": [c.to_dict() for c in found]})

    @server.tool(title="跨城市对比")
    def compare(question: str, cities: list[str] | None = None, as_of: str | None = None) -> schemas.ComparisonOut:
        """同一问题或主题（如“合作期限”“退出与终止”）按城市分列：有规定的逐字引用条款，没有规定的标为 not_specified；
        as_of（YYYY-MM-DD）按该日期施行的版本对比。"""
        compared = _call(assistant.compare, question, cities=cities or None, as_of=as_of or None)
        return schemas.ComparisonOut.model_validate(compared.to_dict())

    @server.tool(title="章程合规检查")
    def check_charter(text: str, city: str, group_type: str | None = None) -> schemas.CharterReportOut:
        """逐项检查章程草案是否符合某地的规定：符合（met）/缺失（missing）/冲突（conflict），附依据条款原文。"""
        return schemas.CharterReportOut.model_validate(_call(assistant.check_charter, text, city, group_type).to_dict())

    @server.tool(title="文档列表")
    def list_documents() -> Documents:
        """语料中的全部政策文件：编号（doc_id）、标题、城市、文号、状态、条款数。"""
        return Documents.model_validate({"documents": [d.to_dict() for d in assistant.list_documents()]})

    @server.tool(title="查看条款")
    def get_clause(doc_id: str, clause: str) -> ClauseMatch:
        """一份文件中的条款原文：clause 为引用中的条款路径（或其中一段，如“限定合作时间”）或 chunk_id。"""
        info = _call(assistant.document, doc_id)
        found = matching_clauses(_call(assistant.document_outline, doc_id), clause)
        if not found:
            raise ToolError(f"文档 {doc_id} 中没有找到条款“{clause}”；可先读取资源 policy://documents/{doc_id} 查看条款目录。")
        return ClauseMatch.model_validate({"document": info.to_dict(),
                                           "clauses": [schemas.clause_dict(c) for c in found]})

    @server.resource("policy://documents", name="documents", title="文档列表", mime_type="application/json")
    def documents_resource() -> str:
        """全部政策文件的元数据（JSON）；每份文件的全文见 policy://documents/{doc_id}。"""
        docs = [{**d.to_dict(), "uri": f"policy://documents/{d.doc_id}"} for d in assistant.list_documents()]
        return json.dumps(docs, ensure_ascii=False)

    @server.resource("policy://documents/{doc_id}", name="document", title="政策文件全文（按条款）",
                     mime_type="text/markdown")
    def document_resource(doc_id: str) -> str:
        """一份政策文件：元数据和按条款排列的原文（Markdown）。"""
        try:
            return document_markdown(assistant.document(doc_id), assistant.document_outline(doc_id))
        except AssistantError as exc:
            raise ResourceError(str(exc)) from None

    return server


def document_markdown(info, clauses: list) -> str:
    head = [f"# {info.title}", "", f"- 城市：{info.city}", f"- 文号：{info.doc_number or '无'}",
            f"- 状态：{status_label(info.status)}", f"- 日期：{info.date or '未知'}", f"- 编号：{info.doc_id}"]
    body = [f"## {c.clause}\n\n{c.text}\n\n（chunk_id: {c.chunk_id}）" for c in clauses]
    return "\n".join(head) + "\n\n" + "\n\n".join(body) + "\n"


def http_app(server: MCPServer, host: str):
    """The streamable HTTP transport as an ASGI app for /mcp, and its session manager (run it in the lifespan).
    DNS-rebinding protection is on when the server listens on loopback (the SDK's default for such hosts)."""
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp

    server.streamable_http_app(streamable_http_path="/mcp", host=host)
    return StreamableHTTPASGIApp(server.session_manager), server.session_manager


def run_stdio() -> None:
    """`policy-assistant mcp`: the MCP server over stdin/stdout. Stdout carries the protocol, so anything the
    start-up prints (index recovery or build progress) goes to stderr."""
    import contextlib
    import sys

    from assistant.interfaces.facade import Assistant

    def progress(done: int, total: int) -> None:
        print(f"\r正在嵌入条款 {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    with contextlib.redirect_stdout(sys.stderr):
        assistant = Assistant(progress=progress).open(notify=lambda m: print(m, file=sys.stderr, flush=True))
        server = build(assistant)
    server.run("stdio")
