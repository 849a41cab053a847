"""Every failure as one JSON shape: `{"error": {"code", "message", "type", "param"}}`.

`code` is stable (programs branch on it), `message` is one line of Chinese (people read it), and the shape is
OpenAI's error object, so OpenAI clients show our message as is. A client's mistake is always a 4xx with the
field it concerns; only our own failures are 5xx, and their details go to the log, never to the client."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from assistant.errors import (AssistantError, CharterError, DocumentNotFoundError, IndexChangedError,
                              IndexLockedError, IngestError, QuestionError, VersionError)

log = logging.getLogger("assistant.http")

INTERNAL = "处理时出现内部错误，请稍后重试；如果问题持续，请联系管理员查看服务日志。"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, param: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.param, self.headers = status, code, message, param, headers


class BodyTooLarge(HTTPException):
    """Raised while the body is read: an HTTPException so that FastAPI's body parsing passes it through."""

    def __init__(self, limit: int):
        super().__init__(413, f"请求体过大：超过 {limit // (1024 * 1024) or 1} MB 上限。")


# AssistantError subclasses → (status, code). Order matters: the first match wins.
_DOMAIN = (
    (QuestionError, 400, "invalid_question"),
    (DocumentNotFoundError, 404, "document_not_found"),
    (IngestError, 422, "ingest_rejected"),
    (CharterError, 422, "charter_rejected"),
    (VersionError, 422, "version_rejected"),
    (IndexLockedError, 503, "index_busy"),
    (IndexChangedError, 503, "index_busy"),
)
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type",
               429: "too_many_requests"}
_HTTP_MESSAGES = {404: "没有这个接口，请查看 /api/v1/docs。", 405: "该接口不支持这种请求方法。",
                  400: "请求格式错误。"}
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 413: "invalid_request_error", 422: "invalid_request_error",
          429: "rate_limit_error"}


def error_response(status: int, code: str, message: str, param: str | None = None,
                   headers: dict | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "type": _TYPES.get(status, "server_error"), "param": param}}
    return JSONResponse(body, status_code=status, headers=headers)


def failure_message(exc: Exception) -> str:
    """What a client may read about a failure: an AssistantError's Chinese text, never a traceback."""
    if isinstance(exc, AssistantError):
        return str(exc)
    log.exception("API request failed")
    return INTERNAL


def domain_error(exc: AssistantError) -> ApiError:
    for kind, status, code in _DOMAIN:
        if isinstance(exc, kind):
            return ApiError(status, code, str(exc))
    return ApiError(503, "unavailable", str(exc))  # index or corpus problems the operator must fix


# ---------------------------------------------------------------- validation messages in Chinese

_TYPE_WORDS = {"string": "字符串", "int": "整数", "float": "数字", "bool": "布尔值（true/false）",
               "list": "列表（数组）", "dict": "JSON 对象", "model": "JSON 对象", "tuple": "列表（数组）"}


def _field(loc) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or None


def _phrase(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "缺少必填字段"
    if kind == "extra_forbidden":
        return "不支持该字段"
    if kind in ("json_invalid", "json_type"):
        return "不是合法的 JSON"
    if kind == "literal_error":
        return f"取值应为 {ctx.get('expected', '')}"
    if kind in ("string_too_long", "too_long"):
        return f"过长（上限 {ctx.get('max_length', '')}）"
    if kind in ("string_too_short", "too_short"):
        return "不能为空"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt", ""))))
        return f"超出范围（{ {'greater_than_equal': '≥', 'greater_than': '>', 'less_than_equal': '≤', 'less_than': '<'}[kind]}{bound}）"
    for prefix, word in _TYPE_WORDS.items():
        if kind.startswith(prefix):
            return f"类型错误，应为{word}"
    return "取值无效"


def validation_message(errors: list[dict]) -> tuple[str, str | None]:
    """A one-line Chinese summary of pydantic errors, and the first field concerned."""
    parts, first = [], None
    for error in errors[:5]:
        name = _field(error.get("loc", ()))
        first = first or name
        if error.get("type") in ("json_invalid", "json_type"):
            return "请求体不是合法的 JSON，请检查引号、逗号和括号。", None
        if name is None and error.get("type") == "missing":
            return "请求体为空：应为 JSON 对象，例如 {\"question\": \"……\"}。", None
        if name is None and error.get("type") in ("model_attributes_type", "dict_type", "model_type"):
            return "请求体应为 JSON 对象，例如 {\"question\": \"……\"}。", None
        parts.append(f"字段 {name or '请求体'}：{_phrase(error)}")
    more = f"（另有 {len(errors) - 5} 处）" if len(errors) > 5 else ""
    return "请求参数有误：" + "；".join(parts) + more + "。", first


# ---------------------------------------------------------------- handlers

def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.param, exc.headers)

    @app.exception_handler(AssistantError)
    async def _domain(request: Request, exc: AssistantError):
        e = domain_error(exc)
        return error_response(e.status, e.code, e.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = list(exc.errors())
        message, param = validation_message(errors)
        code = "invalid_json" if any(e.get("type") in ("json_invalid", "json_type") for e in errors) \
            else "validation_error"
        return error_response(400 if code == "invalid_json" else 422, code, message, param)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        status = exc.status_code
        message = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else \
            _HTTP_MESSAGES.get(status, f"请求无法处理（HTTP {status}）。")
        return error_response(status, _HTTP_CODES.get(status, "http_error"), message, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("API request failed: %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", INTERNAL)
