"""Tools through MCP against a real MCP server (agents.integrations.tests.mcp_server), over
both transports: the allow-list, the verified-customer rule, time limits, logging, cards
and auth headers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agents.answering.toolbox import tools_for
from agents.contracts import CustomerContext, Tool, ToolContext
from agents.integrations.mcp import headers_seal, server_headers
from agents.integrations.tests.mcp_server import ANA, BEN, Shop, shop_server, store_for
from agents.models import Agent, McpServer, ToolCall

pytestmark = pytest.mark.django_db

ANA_VERIFIED = CustomerContext(external_id=ANA, verified=True, name="Ana Souza")
ANA_CLAIMED = CustomerContext(external_id=ANA, verified=False, name="Ana Souza")
SHOPIFY_TOOLS = {"get_customer_orders", "get_order_status", "search_products"}


@pytest.fixture(scope="module")
def running_shop() -> Iterator[Shop]:
    with shop_server() as shop:
        yield shop


@pytest.fixture
def shop(running_shop: Shop) -> Shop:
    running_shop.calls.clear()
    return running_shop


@pytest.fixture(params=[McpServer.Transport.STREAMABLE_HTTP, McpServer.Transport.SSE])
def store(request: Any, agent: Agent, shop: Shop) -> McpServer:
    return store_for(agent, shop, request.param)


def by_name(tools: list[Tool]) -> dict[str, Tool]:
    return {tool.spec.name: tool for tool in tools}


def context(agent: Agent, customer: CustomerContext | None) -> ToolContext:
    return ToolContext(agent=agent, conversation_public_id="cnv_test", customer=customer)


def test_it_offers_only_the_allowed_tools(agent: Agent, store: McpServer) -> None:
    assert set(by_name(tools_for(agent, ANA_VERIFIED))) == SHOPIFY_TOOLS  # not slow_report


def test_the_model_never_sees_the_customer_id_argument(agent: Agent, store: McpServer) -> None:
    spec = by_name(tools_for(agent, ANA_VERIFIED))["get_order_status"].spec
    assert set(spec.parameters["properties"]) == {"order_number"}
    assert spec.parameters["required"] == ["order_number"]
    assert "signed-in customer" in spec.description


def test_a_private_tool_runs_for_the_verified_customer_whatever_id_the_model_names(
    agent: Agent, store: McpServer, shop: Shop
) -> None:
    orders = by_name(tools_for(agent, ANA_VERIFIED))["get_customer_orders"]
    result = orders.call({"customer_id": BEN}, context(agent, ANA_VERIFIED))

    assert result.ok
    assert "#1042" in result.text and "#2001" not in result.text
    assert shop.calls_of("get_customer_orders") == [{"customer_id": ANA}]
    logged = ToolCall.objects.get(tool="get_customer_orders")
    assert logged.ok and logged.server == store and logged.conversation_public_id == "cnv_test"
    assert logged.arguments == {
        "customer_id": "[verified customer; the model's value was discarded]"
    }
    assert ANA not in str(logged.arguments) and BEN not in str(logged.arguments)


def test_order_status_only_finds_the_verified_customers_own_orders(
    agent: Agent, store: McpServer, shop: Shop
) -> None:
    status = by_name(tools_for(agent, ANA_VERIFIED))["get_order_status"]
    mine = status.call({"order_number": "1042"}, context(agent, ANA_VERIFIED))
    bens = status.call({"order_number": "2001"}, context(agent, ANA_VERIFIED))
    assert mine.ok and "shipped" in mine.text
    assert "No order 2001" in bens.text
    assert {call["customer_id"] for call in shop.calls_of("get_order_status")} == {ANA}
    logged = ToolCall.objects.filter(tool="get_order_status").first()
    assert logged is not None
    assert logged.arguments["customer_id"] == "[verified customer]"


@pytest.mark.parametrize("customer", [None, ANA_CLAIMED], ids=["anonymous", "unverified"])
def test_private_tools_are_neither_offered_nor_run_without_a_verified_customer(
    agent: Agent, store: McpServer, shop: Shop, customer: CustomerContext | None
) -> None:
    assert set(by_name(tools_for(agent, customer))) == {"search_products"}

    # Even a tool offered earlier (the customer signed out since) refuses.
    orders = by_name(tools_for(agent, ANA_VERIFIED))["get_customer_orders"]
    result = orders.call({"customer_id": ANA}, context(agent, customer))
    assert not result.ok and "verified" in result.text
    assert shop.calls_of("get_customer_orders") == []
    logged = ToolCall.objects.get(tool="get_customer_orders")
    assert not logged.ok and "verified" in logged.error
    assert logged.arguments == {"customer_id": "[redacted]"}


def test_a_tool_of_another_agent_refuses(
    agent: Agent, other_agent: Agent, store: McpServer, shop: Shop
) -> None:
    search = by_name(tools_for(agent, None))["search_products"]
    result = search.call({"query": "tent"}, context(other_agent, None))
    assert not result.ok and shop.calls == []


def test_product_search_becomes_cards_and_quick_replies(
    agent: Agent, store: McpServer, shop: Shop
) -> None:
    search = by_name(tools_for(agent, None))["search_products"]
    result = search.call({"query": "gear"}, context(agent, None))
    assert result.ok
    assert result.cards == [
        {
            "title": "Ridgeline 2 tent",
            "price": "289.00 USD",
            "imageUrl": "https://cdn.shop.example/ridgeline-2.png",
            "url": "https://shop.example.com/products/ridgeline-2",
        },
        {
            "title": "Summit 40 backpack",
            "price": "$129",
            "imageUrl": "https://cdn.shop.example/summit-40.png",
            "url": "https://shop.example.com/products/summit-40",
        },
        {"title": "Trail stove", "price": "59.50 USD"},  # no javascript: link
    ]
    assert result.quick_replies == [
        "More about Ridgeline 2 tent",
        "More about Summit 40 backpack",
        "More about Trail stove",
    ]
    assert shop.calls_of("search_products") == [{"query": "gear"}]


@pytest.mark.parametrize(
    "transport", [McpServer.Transport.STREAMABLE_HTTP, McpServer.Transport.SSE]
)
def test_a_slow_tool_times_out_cleanly(agent: Agent, shop: Shop, transport: str) -> None:
    store_for(
        agent,
        shop,
        transport,
        allowed_tools=["slow_report", "search_products"],
        private_tools=[],
    )
    McpServer.objects.filter(agent=agent).update(timeout_seconds=1)
    tools = by_name(tools_for(agent, None))

    started = time.monotonic()
    result = tools["slow_report"].call({"seconds": 5}, context(agent, None))
    elapsed = time.monotonic() - started

    assert not result.ok and "timed out after 1 s" in result.text
    assert elapsed < 3
    logged = ToolCall.objects.get(tool="slow_report")
    assert not logged.ok and logged.error == "timed out after 1 s"
    assert 900 <= logged.duration_ms < 3000
    # The server is still there for the next call.
    assert tools["search_products"].call({"query": "tent"}, context(agent, None)).ok


def test_auth_headers_are_sealed_at_rest_and_sent(agent: Agent) -> None:
    with shop_server(token="s3cret-token") as locked:
        server = store_for(agent, locked, McpServer.Transport.STREAMABLE_HTTP)
        assert tools_for(agent, ANA_VERIFIED) == []  # no credentials: nothing offered

        server.sealed_headers = headers_seal({"Authorization": "Bearer s3cret-token"})
        server.save()
        assert "s3cret" not in McpServer.objects.get(pk=server.pk).sealed_headers
        assert server_headers(server) == {"Authorization": "Bearer s3cret-token"}
        assert set(by_name(tools_for(agent, ANA_VERIFIED))) == SHOPIFY_TOOLS


def test_a_listing_is_cached_until_the_server_is_saved(agent: Agent, shop: Shop) -> None:
    server = store_for(
        agent,
        shop,
        McpServer.Transport.STREAMABLE_HTTP,
        allowed_tools=["search_products", "track_parcel"],
    )
    assert set(by_name(tools_for(agent, None))) == {"search_products"}

    def track_parcel(parcel: str) -> str:
        return f"{parcel} is on its way"

    shop.server.add_tool(track_parcel)
    try:
        assert set(by_name(tools_for(agent, None))) == {"search_products"}  # cached
        server.save()
        assert set(by_name(tools_for(agent, None))) == {"search_products", "track_parcel"}
    finally:
        shop.server.remove_tool("track_parcel")


def test_an_unreachable_server_offers_no_tools_and_is_not_retried_at_once(agent: Agent) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    McpServer.objects.create(
        agent=agent,
        name="Gone",
        url=f"http://127.0.0.1:{port}/mcp",
        allowed_tools=["search_products"],
        timeout_seconds=2,
    )
    started = time.monotonic()
    assert tools_for(agent, None) == []
    assert tools_for(agent, None) == []  # the failure is remembered briefly
    assert time.monotonic() - started < 3


def test_inactive_servers_offer_nothing(agent: Agent, store: McpServer) -> None:
    McpServer.objects.filter(pk=store.pk).update(is_active=False)
    assert tools_for(agent, ANA_VERIFIED) == []


def test_a_customer_id_the_model_adds_to_a_public_tool_is_never_passed_on(
    agent: Agent, store: McpServer, shop: Shop
) -> None:
    search = by_name(tools_for(agent, ANA_VERIFIED))["search_products"]
    assert search.call({"query": "tent", "customer_id": BEN}, context(agent, ANA_VERIFIED)).ok
    assert shop.calls_of("search_products") == [{"query": "tent"}]
