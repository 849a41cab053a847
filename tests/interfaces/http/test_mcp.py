"""The MCP server end to end with the SDK's own client, over both transports: streamable HTTP at /mcp on the
running server (with and without login) and stdio (`policy-assistant mcp` as a subprocess)."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, ROOT, fresh_index, run_env

pytestmark = pytest.mark.integration

TOOLS = {"ask", "retrieve", "compare", "check_charter", "list_documents", "get_clause"}


async def exercise(client) -> None:
    """Every tool and both resources, through a connected `mcp.Client`."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS and all(t.output_schema for t in tools.values())

    answer = await client.call_tool("ask", {"question": "长沙集团化办学的合作期限是多久？"})
    assert not answer.is_error and "合作时限一般为六年" in answer.structured_content["citations"][0]["text"]
    assert json.loads(answer.content[0].text)["citations"][0]["doc_number"] == "长教通〔2020〕97号"

    found = await client.call_tool("retrieve", {"question": "教师交流轮岗", "k": 2, "cities": ["南昌市"]})
    assert [c["city"] for c in found.structured_content["citations"]] == ["南昌市", "南昌市"]
    table = await client.call_tool("compare", {"question": "合作期限"})
    assert {c["city"] for c in table.structured_content["cities"]} >= {"长沙市", "青岛市"}
    report = await client.call_tool("check_charter", {"text": "第八条 本集团合作期限为八年。", "city": "长沙市"})
    assert report.structured_content["counts"]["conflict"] == 1
    docs = (await client.call_tool("list_documents", {})).structured_content["documents"]
    assert len(docs) == 6
    clause = await client.call_tool("get_clause", {"doc_id": "changsha-jituan-2020", "clause": "限定合作时间"})
    assert clause.structured_content["clauses"][0]["text"].startswith("限定合作时间。")

    refused = await client.call_tool("ask", {"question": "   "})
    assert refused.is_error and "问题不能为空" in refused.content[0].text
    unknown = await client.call_tool("get_clause", {"doc_id": "no-such-doc", "clause": "x"})
    assert unknown.is_error and "找不到文档" in unknown.content[0].text

    listing = await client.read_resource("policy://documents")
    assert len(json.loads(listing.contents[0].text)) == 6
    text = (await client.read_resource("policy://documents/changsha-jituan-2020")).contents[0].text
    assert text.startswith("# 关于进一步优化基础教育集团化办学的指导意见") and "## 三、主要举措" in text


def test_streamable_http_on_the_running_server(live):
    from mcp import Client

    async def run():
        async with Client(live.url + "/mcp") as client:
            await exercise(client)

    asyncio.run(run())


def test_streamable_http_needs_a_token_when_login_is_on(locked):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    done = subprocess.run([sys.executable, "-m", "assistant", "token", "create", "mcp-client"], cwd=ROOT,
                          env=locked.env, capture_output=True, text=True, timeout=60)
    key = done.stdout.splitlines()[0]

    async def connect(headers: dict) -> int:
        async with httpx2.AsyncClient(headers=headers, timeout=120) as http:
            async with Client(streamable_http_client(locked.url + "/mcp", http_client=http)) as client:
                return len((await client.list_tools()).tools)

    with pytest.raises(BaseException):
        asyncio.run(connect({}))
    assert asyncio.run(connect({"Authorization": f"Bearer {key}"})) == len(TOOLS)


def test_stdio(tmp_path, shared_cache):
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(fresh_index(tmp_path, shared_cache)))
    params = StdioServerParameters(command=sys.executable, args=["-m", "assistant", "mcp"], env=env, cwd=ROOT)

    async def run():
        async with Client(params, read_timeout_seconds=300) as client:
            await exercise(client)

    asyncio.run(run())


def test_the_stdio_command_writes_only_protocol_to_stdout(tmp_path, shared_cache):
    """Anything else on stdout (an index build's progress, a print) would corrupt the protocol."""
    env = run_env(ASSISTANT_CORPUS_DIR=str(CORPUS), ASSISTANT_INDEX_DIR=str(fresh_index(tmp_path, shared_cache)))
    hello = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    done = subprocess.run([sys.executable, "-m", "assistant", "mcp"], cwd=ROOT, env=env, input=hello + "\n",
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines and all(json.loads(line)["jsonrpc"] == "2.0" for line in lines), done.stdout[:500]
    assert json.loads(lines[0])["result"]["serverInfo"]["name"] == "policy-assistant"
