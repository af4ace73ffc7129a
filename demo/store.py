"""The demo's store: a real MCP server (the `mcp` SDK, streamable HTTP) with the tools of
the Shopify preset, for the demo's two customers. `make run` serves it on 127.0.0.1
(`manage.py serve_demo_store`) and the demo agent is configured to use it, so a verified
customer is greeted with their latest order and (with a model server) can ask about it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mcp.server.mcpserver import MCPServer

from agents.integrations.presets import preset_defaults_apply
from agents.models import Agent, McpServer

DEMO_STORE_NAME = "Acme store (demo)"


def demo_orders(now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each demo customer's orders, newest first, dated relative to now."""
    now = now or datetime.now(UTC)
    return {
        "cust_ana": [
            {
                "number": "#1042",
                "status": "shipped",
                "shippedAt": (now - timedelta(days=1)).isoformat(),
                "items": ["Ridgeline 2 tent"],
                "total": {"amount": "289.00", "currencyCode": "USD"},
            },
            {
                "number": "#1017",
                "status": "delivered",
                "deliveredAt": (now - timedelta(days=40)).isoformat(),
                "items": ["Trail stove"],
                "total": {"amount": "59.50", "currencyCode": "USD"},
            },
        ],
        "cust_ben": [
            {
                "number": "#2001",
                "status": "processing",
                "createdAt": (now - timedelta(hours=3)).isoformat(),
                "items": ["Summit 40 backpack"],
                "total": {"amount": "129.00", "currencyCode": "USD"},
            }
        ],
    }


CATALOG: list[dict[str, Any]] = [
    {
        "title": "Ridgeline 2 tent",
        "price": {"amount": "289.00", "currencyCode": "USD"},
        "url": "https://acme-outdoor.example/products/ridgeline-2",
    },
    {
        "title": "Summit 40 backpack",
        "price": {"amount": "129.00", "currencyCode": "USD"},
        "url": "https://acme-outdoor.example/products/summit-40",
    },
    {
        "title": "Trail stove",
        "price": {"amount": "59.50", "currencyCode": "USD"},
        "url": "https://acme-outdoor.example/products/trail-stove",
    },
]


def demo_store_build() -> MCPServer:
    store = MCPServer(DEMO_STORE_NAME)

    @store.tool()
    def get_customer_orders(customer_id: str) -> dict[str, Any]:
        """The customer's orders, newest first."""
        return {"customerId": customer_id, "orders": demo_orders().get(customer_id, [])}

    @store.tool()
    def get_order_status(customer_id: str, order_number: str) -> dict[str, Any]:
        """The status of one of the customer's orders."""
        for order in demo_orders().get(customer_id, []):
            if order["number"].lstrip("#") == order_number.lstrip("#"):
                return order
        return {"error": f"No order {order_number} for this customer."}

    @store.tool()
    def search_products(query: str) -> dict[str, Any]:
        """Products of the store matching the query."""
        words = query.lower().split()
        found = [p for p in CATALOG if any(w in str(p["title"]).lower() for w in words)]
        return {"products": found or CATALOG}

    return store


def demo_store_seed(agent: Agent, url: str) -> McpServer:
    """The demo agent's Shopify-preset MCP server pointing at the demo store at `url`."""
    server = McpServer.objects.filter(agent=agent, name=DEMO_STORE_NAME).first() or McpServer(
        agent=agent, name=DEMO_STORE_NAME, preset=McpServer.Preset.SHOPIFY, timeout_seconds=5
    )
    server.url = url
    server.transport = McpServer.Transport.STREAMABLE_HTTP
    preset_defaults_apply(server)
    server.save()
    return server
