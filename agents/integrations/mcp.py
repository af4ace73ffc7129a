"""The MCP client: list and call the tools of an agent's MCP servers (the official `mcp` SDK).

Our code is synchronous (Celery tasks, Django views) and the SDK is async, so every listing
and every call opens its own session in a fresh event loop, bounded as a whole — connect,
handshake, request — by the server's `timeout_seconds`. Nothing here raises for a remote
failure: a listing that fails offers no tools, a call that fails says why.

Tool listings are cached briefly. The cache key carries the row's `updated_at`, so saving
the server (in the admin or through `McpServer.save()`) makes the next listing fresh.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import httpx2
from django.core.cache import cache
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from agents.models import McpServer
from security.outbound import (
    OutboundBlocked,
    OutboundFailed,
    OutboundRefused,
    Purpose,
    outbound_target,
    outbound_url_problem,
    pinned_async_client,
)
from security.sealing import SealBroken, seal, unseal

logger = logging.getLogger(__name__)
T = TypeVar("T")

LISTING_CACHE_SECONDS = 60
# A server that just failed is not asked again for a while: each visitor message would
# otherwise wait out its timeout before the agent could answer.
FAILED_LISTING_CACHE_SECONDS = 15
MAX_HEADERS = 20
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")


@dataclass(frozen=True)
class RemoteTool:
    """A tool as the server describes it."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class CallOutcome:
    ok: bool
    # What the tool said: its text blocks, or its structured result as JSON.
    text: str
    # Its structured result (or its text parsed as JSON), when it had one.
    data: Any = None
    error: str = ""


# --- Auth headers, sealed ---------------------------------------------------------------


def headers_validate(value: object) -> dict[str, str]:
    """`{"Header-Name": "value"}` or a ValueError saying what is wrong."""
    if not isinstance(value, dict):
        raise ValueError('Enter a JSON object, e.g. {"Authorization": "Bearer …"}.')
    if len(value) > MAX_HEADERS:
        raise ValueError(f"At most {MAX_HEADERS} headers.")
    headers: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not HEADER_NAME.match(name):
            raise ValueError(f"{str(name)[:40]!r} is not a valid header name.")
        if not isinstance(header_value, str) or len(header_value) > 4000:
            raise ValueError(f"The value of {name} must be text of at most 4000 characters.")
        if any(ch in header_value for ch in "\r\n\0"):
            raise ValueError(f"The value of {name} must be on one line.")
        headers[name] = header_value
    return headers


def headers_seal(headers: Mapping[str, str]) -> str:
    """The sealed form stored in `McpServer.sealed_headers` ("" for no headers)."""
    return seal(json.dumps(dict(headers))) if headers else ""


def server_headers(server: McpServer) -> dict[str, str]:
    """The server's auth headers in the clear; none when the seal no longer opens."""
    if not server.sealed_headers:
        return {}
    try:
        loaded = json.loads(unseal(server.sealed_headers))
    except (SealBroken, ValueError):
        logger.error("the headers of MCP server %s cannot be unsealed; sending none", server.pk)
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


# --- Listing and calling ------------------------------------------------------------------


def _listing_key(server: McpServer) -> str:
    version = server.updated_at.timestamp() if server.updated_at else 0
    return f"mcp:tools:{server.pk}:{version}"


def mcp_url_check(url: str) -> None:
    """Refuse (OutboundRefused) a URL our servers must not call (security.outbound: not
    http(s), credentials in it, or a host resolving to a private, loopback, link-local
    (cloud metadata) or reserved address — unless MCP_ALLOW_PRIVATE_URLS).
    OutboundFailed: it does not resolve."""
    outbound_target(url, purpose=Purpose.MCP)


def mcp_url_problem(url: str) -> str | None:
    """Why a URL may not be saved as an MCP server, or None. A host that does not resolve
    (yet) may be saved: the check runs again before every call."""
    return outbound_url_problem(url, purpose=Purpose.MCP)


def tools_list(server: McpServer) -> list[RemoteTool]:
    """The server's tools (cached briefly); none when it cannot be reached in time."""
    key = _listing_key(server)
    cached: list[RemoteTool] | None = cache.get(key)
    if cached is not None:
        return cached
    started = time.monotonic()
    try:
        mcp_url_check(server.url)
        tools = _run(lambda: _list(server), seconds=server.timeout_seconds)
    except Exception as exc:  # noqa: BLE001 (a failing tool server is an answer without its tools)
        logger.warning(
            "listing the tools of MCP server %s (%s) failed: %s",
            server.pk,
            server.name,
            describe_error(exc, server.timeout_seconds),
        )
        cache.set(key, [], FAILED_LISTING_CACHE_SECONDS)
        return []
    logger.info(
        "MCP server %s lists %d tools in %d ms",
        server.pk,
        len(tools),
        (time.monotonic() - started) * 1000,
    )
    cache.set(key, tools, LISTING_CACHE_SECONDS)
    return tools


def tools_forget(server: McpServer) -> None:
    cache.delete(_listing_key(server))


def tool_call(server: McpServer, name: str, arguments: dict[str, Any]) -> CallOutcome:
    """Call one tool, within the server's time limit. Never raises for a remote failure."""
    try:
        mcp_url_check(server.url)
        result = _run(lambda: _call(server, name, arguments), seconds=server.timeout_seconds)
    except Exception as exc:  # noqa: BLE001 (a failing tool is a message to the model)
        error = describe_error(exc, server.timeout_seconds)
        return CallOutcome(ok=False, text=f"The tool failed: {error}", error=error)
    text, data = _result_content(result)
    if result.is_error:
        return CallOutcome(ok=False, text=text, data=data, error=text[:500] or "tool error")
    return CallOutcome(ok=True, text=text, data=data)


def describe_error(exc: BaseException, seconds: float) -> str:
    """A short, secret-free reason (the innermost error of an exception group)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return f"timed out after {seconds:g} s"
    if isinstance(exc, OutboundRefused | OutboundFailed | OutboundBlocked):
        return f"refused: {exc}"
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx2.TransportError):
        return f"unreachable ({type(exc).__name__})"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _result_content(result: CallToolResult) -> tuple[str, Any]:
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    text = "\n".join(texts)
    data = result.structured_content
    if data is None and len(texts) == 1:
        try:
            data = json.loads(texts[0])
        except ValueError:
            data = None
    if not text and data is not None:
        text = json.dumps(data)
    return text, data


# --- The async side -----------------------------------------------------------------------


def _http_client(
    headers: dict[str, str] | None = None,
    timeout: httpx2.Timeout | None = None,
    auth: httpx2.Auth | None = None,
) -> httpx2.AsyncClient:
    """The SDK's `httpx_client_factory`: every connection goes only to the address the
    outbound policy approved for the server's host (no DNS rebinding between the check
    above and the call)."""
    options = {"headers": headers, "timeout": timeout, "auth": auth}
    return pinned_async_client(
        purpose=Purpose.MCP, **{name: value for name, value in options.items() if value is not None}
    )


def _transport(server: McpServer) -> AbstractAsyncContextManager[Any]:
    headers = server_headers(server)
    seconds = float(server.timeout_seconds)
    if server.transport == McpServer.Transport.SSE:
        return sse_client(
            server.url,
            headers=headers,
            timeout=seconds,
            sse_read_timeout=seconds,
            httpx_client_factory=_http_client,
        )
    return _streamable_http(server.url, headers=headers, seconds=seconds)


@asynccontextmanager
async def _streamable_http(
    url: str, *, headers: dict[str, str], seconds: float
) -> AsyncIterator[Any]:
    # The SDK takes headers only through a client of our own, which we must close.
    async with (
        _http_client(headers=headers, timeout=httpx2.Timeout(seconds)) as http_client,
        streamable_http_client(url, http_client=http_client) as streams,
    ):
        yield streams


async def _list(server: McpServer) -> list[RemoteTool]:
    tools: list[RemoteTool] = []
    async with Client(_transport(server), cache=None) as client:
        cursor: str | None = None
        for _ in range(20):  # pages; a server that never stops paging is cut short
            page = await client.list_tools(cursor=cursor)
            tools.extend(
                RemoteTool(
                    name=tool.name,
                    description=tool.description or "",
                    input_schema=dict(tool.input_schema),
                )
                for tool in page.tools
            )
            cursor = page.next_cursor
            if cursor is None:
                break
    return tools


async def _call(server: McpServer, name: str, arguments: dict[str, Any]) -> CallToolResult:
    async with Client(_transport(server), cache=None) as client:
        return await client.call_tool(name, arguments)


def _run(factory: Callable[[], Awaitable[T]], *, seconds: float) -> T:
    """Run `factory()` in a fresh event loop, cancelled (TimeoutError) after `seconds`."""

    async def limited() -> T:
        with anyio.fail_after(seconds):
            return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(limited())
    # Called from a thread that runs a loop already (async code calling sync code):
    # a loop of our own needs a thread of its own.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcp") as pool:
        return pool.submit(lambda: asyncio.run(limited())).result()
