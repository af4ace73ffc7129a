"""The demo's store is a real MCP server: the demo agent's personalized greeting reads a
verified customer's latest order from it, through the Shopify preset's private tool."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.integrations.tests.mcp_server import _serving
from agents.models import Agent, McpServer, ToolCall
from conversations.greetings import greeting_refresh
from customers.models import Customer
from demo.store import DEMO_STORE_NAME, demo_store_build, demo_store_seed

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def store_url() -> Iterator[str]:
    with _serving(demo_store_build().streamable_http_app()) as port:
        yield f"http://127.0.0.1:{port}/mcp"


def _verified(agent: Agent, external_id: str, name: str) -> Customer:
    return Customer.objects.create(
        workspace=agent.workspace, external_id=external_id, is_verified=True, name=name
    )


def test_the_demo_customers_are_greeted_with_their_latest_order(
    agent: Agent, store_url: str
) -> None:
    server = demo_store_seed(agent, store_url)
    assert server.preset == McpServer.Preset.SHOPIFY
    assert set(server.private_tools) == {"get_customer_orders", "get_order_status"}
    ana = _verified(agent, "cust_ana", "Ana Souza")
    ben = _verified(agent, "cust_ben", "Ben Okafor")

    assert greeting_refresh(agent_id=agent.pk, customer_id=ana.pk) == (
        "Hi Ana — your order #1042 shipped yesterday."
    )
    assert greeting_refresh(agent_id=agent.pk, customer_id=ben.pk) == (
        "Hi Ben — your order #2001 is being prepared."
    )
    # Read for the verified customer only, and logged without their id.
    calls = ToolCall.objects.filter(tool="get_customer_orders")
    assert calls.count() == 2
    assert {tuple(c.arguments.items()) for c in calls} == {
        (("customer_id", "[verified customer]"),)
    }


def test_reseeding_points_the_one_demo_store_at_the_new_port(agent: Agent) -> None:
    demo_store_seed(agent, "http://127.0.0.1:8002/mcp")
    demo_store_seed(agent, "http://127.0.0.1:9002/mcp")
    servers = McpServer.objects.filter(agent=agent, name=DEMO_STORE_NAME)
    assert [s.url for s in servers] == ["http://127.0.0.1:9002/mcp"]
