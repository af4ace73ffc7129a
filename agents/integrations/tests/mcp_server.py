"""A Shopify-like store's MCP server for the tests, built with the `mcp` SDK (MCPServer, the
SDK's FastMCP) and served by uvicorn in a thread on 127.0.0.1, over streamable HTTP and SSE.

It knows two customers' orders and a small catalog, records every call it gets (so a test
can see which customer id really reached it) and, when given a token, refuses requests
without `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Receive, Scope, Send

from agents.integrations.presets import preset_defaults_apply
from agents.models import Agent, McpServer

ANA, BEN = "cust_ana", "cust_ben"
CDN = "https://cdn.shop.example"


def _orders() -> dict[str, list[dict[str, Any]]]:
    now = datetime.now(UTC)
    return {
        ANA: [
            {
                "number": "#1042",
                "status": "shipped",
                "shippedAt": (now - timedelta(days=1)).isoformat(),
                "total": {"amount": "289.00", "currencyCode": "USD"},
            },
            {
                "number": "#1017",
                "status": "delivered",
                "deliveredAt": (now - timedelta(days=40)).isoformat(),
                "total": {"amount": "45.00", "currencyCode": "USD"},
            },
        ],
        BEN: [{"number": "#2001", "status": "processing", "createdAt": now.isoformat()}],
    }


CATALOG: list[dict[str, Any]] = [
    {
        "title": "Ridgeline 2 tent",
        "price": {"amount": "289.00", "currencyCode": "USD"},
        "image": {"url": f"{CDN}/ridgeline-2.png"},
        "url": "https://shop.example.com/products/ridgeline-2",
    },
    {
        "title": "Summit 40 backpack",
        "price": "$129",
        "imageUrl": f"{CDN}/summit-40.png",
        "url": "https://shop.example.com/products/summit-40",
    },
    {"title": "Trail stove", "price": 59.5, "currency": "USD", "url": "javascript:alert(1)"},
]


@dataclass
class Shop:
    """The running server: its two endpoints and what it was asked."""

    server: MCPServer
    http_url: str = ""
    sse_url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def calls_of(self, tool: str) -> list[dict[str, Any]]:
        return [arguments for name, arguments in self.calls if name == tool]


def build_shop(calls: list[tuple[str, dict[str, Any]]]) -> MCPServer:
    server = MCPServer("Test Shop")

    @server.tool()
    def get_customer_orders(customer_id: str) -> dict[str, Any]:
        """The customer's orders, newest first."""
        calls.append(("get_customer_orders", {"customer_id": customer_id}))
        return {"customerId": customer_id, "orders": _orders().get(customer_id, [])}

    @server.tool()
    def get_order_status(customer_id: str, order_number: str) -> dict[str, Any]:
        """The status of one of the customer's orders."""
        arguments = {"customer_id": customer_id, "order_number": order_number}
        calls.append(("get_order_status", arguments))
        for order in _orders().get(customer_id, []):
            if order["number"].lstrip("#") == order_number.lstrip("#"):
                return order
        return {"error": f"No order {order_number} for this customer."}

    @server.tool()
    def search_products(query: str) -> dict[str, Any]:
        """Products of the store matching the query."""
        calls.append(("search_products", {"query": query}))
        words = query.lower().split()
        found = [p for p in CATALOG if any(w in str(p["title"]).lower() for w in words)]
        return {"products": found or CATALOG}

    @server.tool()
    async def slow_report(seconds: float) -> str:
        """Takes its time."""
        calls.append(("slow_report", {"seconds": seconds}))
        await asyncio.sleep(seconds)
        return "done"

    return server


class RequireBearer:
    """Refuses (401) every request without the expected bearer token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != (
            self.expected
        ):
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await self.app(scope, receive, send)


@contextmanager
def _serving(app: ASGIApp) -> Iterator[int]:
    """Serve `app` on a free port of 127.0.0.1 in a thread; its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1, ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test MCP server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def store_for(agent: Agent, shop: Shop, transport: str, **fields: Any) -> McpServer:
    """The agent's Shopify-preset MCP server row pointing at `shop`."""
    url = shop.sse_url if transport == McpServer.Transport.SSE else shop.http_url
    server = McpServer(
        agent=agent,
        name="Acme store",
        url=url,
        transport=transport,
        preset=McpServer.Preset.SHOPIFY,
        timeout_seconds=5,
        **fields,
    )
    preset_defaults_apply(server)
    server.save()
    return server


@contextmanager
def shop_server(token: str | None = None) -> Iterator[Shop]:
    """The shop over streamable HTTP (`http_url`) and SSE (`sse_url`)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    server = build_shop(calls)
    http_app: ASGIApp = server.streamable_http_app()
    sse_app: ASGIApp = server.sse_app()
    if token:
        http_app, sse_app = RequireBearer(http_app, token), RequireBearer(sse_app, token)
    with _serving(http_app) as http_port, _serving(sse_app) as sse_port:
        yield Shop(
            server=server,
            http_url=f"http://127.0.0.1:{http_port}/mcp",
            sse_url=f"http://127.0.0.1:{sse_port}/sse",
            calls=calls,
        )
