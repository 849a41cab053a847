"""/api/v1/docs: the API reference as one self-contained HTML page, rendered from the OpenAPI schema.

Swagger UI and ReDoc load their scripts from a CDN; this assistant runs offline by default, so the page is
built here, with no script at all. The machine-readable schema is /api/v1/openapi.json (any OpenAPI viewer
or client generator reads it)."""
from __future__ import annotations

import html

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

from assistant.interfaces.http.failures import ApiError

_STYLE = """body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;max-width:960px;
margin:2em auto;padding:0 1em;color:#1f2937;line-height:1.6}code,pre{background:#f3f4f6;border-radius:4px;
padding:.1em .3em}pre{padding:.8em;overflow:auto}.op{border:1px solid #e5e7eb;border-radius:8px;padding:.6em 1em;
margin:1em 0}.m{font-weight:700;display:inline-block;min-width:4.5em}.get{color:#047857}.post{color:#1d4ed8}
.delete{color:#b91c1c}table{border-collapse:collapse}td,th{border-bottom:1px solid #e5e7eb;padding:.2em .6em;
text-align:left;vertical-align:top}"""


def _resolve(schema: dict, spec: dict) -> dict:
    ref = schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def _type(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{_type(schema.get('items', {}))}]"
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    if "const" in schema:
        return str(schema["const"])
    return schema.get("type", "any")


def _fields(schema: dict, spec: dict) -> str:
    schema = _resolve(schema, spec)
    props = schema.get("properties") or {}
    if not props:
        return ""
    required = set(schema.get("required", ()))
    rows = "".join(f"<tr><td><code>{html.escape(name)}</code>{' *' if name in required else ''}</td>"
                   f"<td>{html.escape(_type(p))}</td><td>{html.escape(p.get('description', ''))}</td></tr>"
                   for name, p in props.items())
    return f"<table><tr><th>字段（* 必填）</th><th>类型</th><th>说明</th></tr>{rows}</table>"


def _operation(path: str, method: str, op: dict, spec: dict) -> str:
    parts = [f'<div class="op"><span class="m {method}">{method.upper()}</span> <code>{html.escape(path)}</code> '
             f"— {html.escape(op.get('summary', ''))}"]
    if op.get("description"):
        parts.append(f"<p>{html.escape(op['description'])}</p>")
    for kind, media in (op.get("requestBody") or {}).get("content", {}).items():
        parts.append(f"<p>请求体（{html.escape(kind)}）：</p>{_fields(media.get('schema', {}), spec)}")
    ok = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {}).get("schema")
    if ok:
        parts.append(f"<p>成功（200）：<code>{html.escape(_type(ok))}</code></p>")
    return "".join(parts) + "</div>"


def page(spec: dict) -> str:
    ops = [_operation(path, method, op, spec) for path, item in spec["paths"].items()
           for method, op in item.items() if method in ("get", "post", "delete", "put", "patch")]
    models = [f"<h3 id=\"{html.escape(name)}\">{html.escape(name)}</h3>{_fields(schema, spec)}"
              for name, schema in spec["components"]["schemas"].items()
              if not name.startswith(("Body_", "HTTPValidation", "ValidationError"))]
    description = html.escape(spec["info"].get("description", "")).replace("\n", "<br>")
    return (f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{html.escape(spec['info']['title'])}"
            f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(spec['info']['title'])}</h1>"
            f"<p>{description}</p><p>机器可读的接口描述：<a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a></p>"
            f"<h2>接口</h2>{''.join(ops)}<h2>数据结构</h2>{''.join(models)}</body></html>")


def router(app: FastAPI) -> APIRouter:
    docs = APIRouter()

    @docs.get("/api/v1/docs", include_in_schema=False, response_class=HTMLResponse)
    def reference():
        return page(app.openapi())

    return docs


def not_found() -> APIRouter:
    """Unknown paths under /api/v1 and /v1: a JSON 404 (the web app, mounted at /, would answer with its own)."""
    missing = APIRouter()
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @missing.api_route("/api/v1/{rest:path}", methods=methods, include_in_schema=False)
    @missing.api_route("/v1/{rest:path}", methods=methods, include_in_schema=False)
    def unknown(rest: str):
        raise ApiError(404, "not_found", "没有这个接口，或该接口不支持这种请求方法；接口列表见 /api/v1/docs。")

    return missing
