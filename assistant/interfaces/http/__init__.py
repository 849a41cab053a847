"""The programs' way in, on the web app's own server: the HTTP API (/api/v1, documented at /api/v1/docs), an
OpenAI-compatible chat endpoint (/v1) and an MCP server (/mcp).

`create_server(assistant)` returns a FastAPI app holding all three; `web/app.py` mounts the Gradio app on it and
`serve` runs it. See guard.py for who may call what."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from assistant.interfaces.http import api, docs, failures, mcp_server, openai_compat
from assistant.interfaces.http.guard import Gate, Guard
from assistant.interfaces.http.tokens import TokenStore

DESCRIPTION = """集团化办学政策助手的程序接口：回答均逐字引用政策条款，并给出结构化的引用（`citations`）。

- 认证：未设置 `ASSISTANT_AUTH` 且没有任何 API 令牌时（本机单用户默认），无需认证；否则每个请求都需要
  `Authorization: Bearer <令牌>`（`policy-assistant token create 名称 [--write]`）、网页登录的用户名和密码
  （HTTP Basic），或网页登录后的浏览器会话。上传和删除文档需要写入权限。
- 错误：统一为 `{"error": {"code", "message", "type", "param"}}`，`code` 稳定、`message` 为中文；
  客户端的错误一律返回 4xx。
- 另见：OpenAI 兼容接口 `/v1/chat/completions`、`/v1/models`；MCP（streamable HTTP）`/mcp`。"""


def create_server(assistant, host: str | None = None) -> FastAPI:
    """A FastAPI app with the API, the OpenAI-compatible endpoint and MCP; mount the web app on it last.
    `host`: the address the server will listen on (MCP's DNS-rebinding protection depends on it)."""
    settings = assistant.settings
    mcp = mcp_server.build(assistant)
    mcp_asgi, sessions = mcp_server.http_app(mcp, host or settings.host)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with sessions.run():
            yield

    app = FastAPI(title="集团化办学政策助手 API", version="1", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    failures.install(app)
    app.include_router(api.router(assistant))
    app.include_router(openai_compat.router(assistant))
    app.include_router(docs.router(app))
    app.include_router(docs.not_found())  # after every real route: unknown API paths get JSON, not the web app
    app.add_route("/mcp", mcp_asgi, include_in_schema=False)
    app.add_middleware(Guard, gate=Gate(settings, TokenStore(settings.data_dir)), settings=settings)
    return app


class _ShutdownCuts(logging.Filter):
    """Drops uvicorn's report of a connection cancelled because the server is stopping: the browser's event
    streams (Gradio's heartbeat, a streamed answer) stay open by design, so every stop would print a traceback
    that says nothing is wrong."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, asyncio.CancelledError):
            return False
        return "timeout graceful shutdown exceeded" not in record.getMessage()


def serve(app: FastAPI, host: str, port: int) -> None:
    import uvicorn

    logging.getLogger("uvicorn.error").addFilter(_ShutdownCuts())
    print(f"政策助手已启动：http://{host}:{port}/ （API 文档：/api/v1/docs，OpenAI 兼容：/v1，MCP：/mcp）", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
