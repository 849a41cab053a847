"""The HTTP API under /api/v1: questions, comparisons, charter checks and the document library.

Handlers are plain `def`s (FastAPI runs them in its thread pool, as the facade blocks) and only translate:
request model → facade call → the value's `to_dict()`. Uploads go through the same `Assistant.ingest` as the
web library and the CLI, so the same size, format and parsing limits apply."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import ValidationError

from assistant.errors import AssistantError
from assistant.interfaces.http import schemas
from assistant.interfaces.http.failures import ApiError, validation_message
from assistant.interfaces.http.guard import principal
from assistant.interfaces.http.schemas import ErrorOut

UPLOAD_TYPES = (".pdf", ".docx", ".txt", ".md")
DRAFT_TYPES = (".txt", ".md", ".docx")
_ERRORS = {status: {"model": ErrorOut} for status in (400, 401, 403, 404, 413, 422, 429)}


def writer(request: Request) -> None:
    """Write endpoints need write rights: a write token, a login, or the open local default."""
    if not principal(request).write:
        raise ApiError(403, "write_forbidden", "该 API 令牌没有写入权限；请用 token create 名称 --write 生成可写令牌。")


def router(assistant) -> APIRouter:
    api = APIRouter(prefix="/api/v1", responses=_ERRORS)

    @api.get("/health", response_model=schemas.HealthOut, summary="服务状态", tags=["服务"])
    def health():
        docs = assistant.list_documents()
        return {"status": "ok", "documents": len(docs), "clauses": sum(d.chunks or 0 for d in docs),
                "cities": assistant.cities, "mode": assistant.settings.default_mode}

    @api.post("/ask", response_model=schemas.AnswerOut, summary="提问：带出处的回答", tags=["问答"])
    def ask(body: schemas.AskRequest):
        """回答问题并逐字引用条款；没有依据时 `abstained` 为 true，并说明语料覆盖哪些地区。"""
        return assistant.ask(body.question, cities=body.cities or None, mode=body.mode, only_place=body.only_place,
                             as_of=body.as_of, include_outdated=body.include_outdated).to_dict()

    @api.post("/retrieve", response_model=list[schemas.CitationOut], summary="只检索条款", tags=["问答"])
    def retrieve(body: schemas.RetrieveRequest):
        return [c.to_dict() for c in assistant.retrieve(body.question, k=body.k, cities=body.cities or None,
                                                          only_place=body.only_place, as_of=body.as_of,
                                                          include_outdated=body.include_outdated)]

    @api.post("/compare", response_model=schemas.ComparisonOut, summary="跨城市对比", tags=["问答"])
    def compare(body: schemas.CompareRequest):
        """同一问题或主题按城市分列：有规定的逐字引用，没有规定的标为 not_specified。"""
        return assistant.compare(body.question, cities=body.cities or None, only_place=body.only_place,
                                 as_of=body.as_of, include_outdated=body.include_outdated).to_dict()

    @api.post("/charter/check", response_model=schemas.CharterReportOut, summary="章程合规检查", tags=["章程"],
              openapi_extra=_CHARTER_BODY)
    async def charter_check(request: Request):
        """JSON `{"text", "city", "group_type"}`，或 multipart 表单：`file`（TXT/MD/DOCX）、`city`、`group_type`。"""
        text, city, group_type = await _charter_input(request, assistant)
        return assistant.check_charter(text, city, group_type).to_dict()

    @api.get("/documents", response_model=list[schemas.DocumentOut], summary="文档列表", tags=["文档库"])
    def documents():
        return [d.to_dict() for d in assistant.list_documents()]

    @api.get("/documents/{doc_id}", response_model=schemas.DocumentDetailOut, summary="文档元数据与条款",
             tags=["文档库"])
    def document(doc_id: str):
        data = assistant.document(doc_id).to_dict()  # DocumentNotFoundError → 404
        data["clauses"] = [schemas.clause_dict(c) for c in assistant.document_outline(doc_id)]
        return data

    @api.get("/documents/{doc_id}/diff", response_model=schemas.VersionDiffOut, summary="版本对比",
             tags=["文档库"])
    def diff(doc_id: str, new: str | None = None):
        """逐条对比文档 `doc_id` 与新版本 `new`（不填为它的下一个版本）：新增、删除、修改、移动的条款，修改处标出改动的文字。"""
        return assistant.diff(doc_id, new).to_dict()

    @api.post("/documents", response_model=schemas.IngestReportOut, summary="上传并导入文档", tags=["文档库"],
              dependencies=[Depends(writer)])
    def upload(file: Annotated[UploadFile, File(description="PDF、DOCX、TXT 或 MD，20 MB 以内")],
               title: Annotated[str | None, Form()] = None, city: Annotated[str | None, Form()] = None,
               doc_number: Annotated[str | None, Form()] = None, date: Annotated[str | None, Form()] = None,
               status: Annotated[str | None, Form(description="official、draft 或 interpretation")] = None,
               replace: Annotated[str | None, Form(description="覆盖这份文档（ID），不保留旧版本")] = None,
               supersedes: Annotated[str | None, Form(description="作为这份文档（ID）的新版本导入，旧版本保留")] = None):
        """与网页文档库相同的导入流程：识别元数据和条款，表单字段优先于识别结果；同一文件重复上传不做更改。"""
        name = _upload_name(file, UPLOAD_TYPES)
        overrides = {k: v for k, v in (("title", title), ("city", city), ("doc_number", doc_number),
                                       ("date", date), ("status", status)) if v}
        data = file.file.read()
        return assistant.ingest(data, filename=name, overrides=overrides, replace=replace or None,
                                supersedes=supersedes or None).to_dict()

    @api.delete("/documents/{doc_id}", response_model=schemas.RemoveReportOut, summary="删除文档",
                tags=["文档库"], dependencies=[Depends(writer)])
    def remove(doc_id: str):
        return assistant.remove_document(doc_id).to_dict()

    return api


def _upload_name(file: UploadFile, allowed: tuple[str, ...]) -> str:
    name = (file.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not name:
        raise ApiError(422, "validation_error", "上传的文件缺少文件名。", "file")
    if Path(name).suffix.lower() not in allowed:
        raise ApiError(415, "unsupported_file_type",
                       f"不支持的文件类型：{Path(name).suffix or '（无扩展名）'}；支持 {'、'.join(allowed)}。", "file")
    return name


async def _charter_input(request: Request, assistant) -> tuple[str, str, str | None]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        fields = {k: form.get(k) for k in ("city", "group_type") if isinstance(form.get(k), str) and form.get(k)}
        if not hasattr(upload, "read"):
            raise ApiError(422, "validation_error", "请求参数有误：字段 file：缺少必填字段（或改用 JSON 提交 text）。", "file")
        name = _upload_name(upload, DRAFT_TYPES)
        text = _draft_text(await upload.read(), name, assistant)
        body = {"text": text, **fields}
    elif kind in ("application/json", ""):
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            raise ApiError(400, "invalid_json", "请求体不是合法的 JSON，请检查引号、逗号和括号。") from None
    else:
        raise ApiError(415, "unsupported_media_type", "请用 application/json 或 multipart/form-data 提交。")
    try:
        parsed = schemas.CharterCheckRequest.model_validate(body)
    except ValidationError as exc:
        message, param = validation_message(exc.errors())
        raise ApiError(422, "validation_error", message, param) from None
    return parsed.text, parsed.city, parsed.group_type


def _draft_text(data: bytes, name: str, assistant) -> str:
    """A draft's text through the facade's reader, which takes a path: a private temporary copy, removed after."""
    with tempfile.TemporaryDirectory(prefix="policy-assistant-draft-") as folder:
        path = Path(folder) / ("draft" + Path(name).suffix.lower())
        path.write_bytes(data)
        try:
            return assistant.read_draft(path)
        except AssistantError:
            raise
        except Exception:  # noqa: BLE001 — an unreadable upload is the client's file, not our failure
            raise ApiError(422, "unreadable_file", f"无法读取草案文件 {name}，请确认是有效的 TXT、MD 或 DOCX。",
                           "file") from None


_CHARTER_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": schemas.CharterCheckRequest.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file", "city"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "TXT、MD 或 DOCX"},
        "city": {"type": "string"}, "group_type": {"type": "string"}}}}}}}
