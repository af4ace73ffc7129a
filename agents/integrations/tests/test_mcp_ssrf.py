"""MCP server URLs are typed by customers, and our servers call them: with the guard on (as
in production) none may reach our own network — at save time nor at call time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from agents.admin import McpServerForm
from agents.integrations.mcp import tool_call, tools_list
from agents.integrations.tests.mcp_server import Shop, shop_server, store_for
from agents.models import Agent, McpServer

pytestmark = pytest.mark.django_db

INTERNAL = [
    "http://127.0.0.1:8000/mcp",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://10.0.0.5/mcp",
    "http://[::1]:9000/mcp",
    "http://[::ffff:127.0.0.1]/mcp",
    "http://localhost/mcp",
    "http://0.0.0.0/mcp",
]


@pytest.fixture(autouse=True)
def _guard_on(settings: Any) -> None:
    settings.MCP_ALLOW_PRIVATE_URLS = False


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    with shop_server() as running:
        yield running


def _form(agent: Agent, url: str) -> McpServerForm:
    return McpServerForm(
        data={
            "name": "Store",
            "url": url,
            "transport": McpServer.Transport.STREAMABLE_HTTP,
            "preset": McpServer.Preset.CUSTOM,
            "allowed_tools": "[]",
            "private_tools": "[]",
            "timeout_seconds": 5,
            "is_active": "on",
        },
        instance=McpServer(agent=agent),
    )


@pytest.mark.parametrize("url", INTERNAL)
def test_the_admin_and_the_api_refuse_internal_addresses(
    agent: Agent, owner: Any, url: str
) -> None:
    form = _form(agent, url)
    assert not form.is_valid()
    assert "private or reserved" in str(form.errors["url"])
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post(
        f"/api/v2/agents/{agent.public_id}/integrations",
        {"name": "Store", "url": url, "preset": "custom"},
        format="json",
    )
    assert response.status_code == 400
    assert "private or reserved" in response.content.decode()
    assert not McpServer.objects.filter(agent=agent).exists()


def test_credentials_in_the_url_are_refused(agent: Agent) -> None:
    form = _form(agent, "https://user:pass@store.example/mcp")
    assert not form.is_valid()
    assert "credentials" in str(form.errors["url"])


def test_a_stored_internal_url_is_never_called(agent: Agent, shop: Shop, settings: Any) -> None:
    # Saved while allowed (or before this guard existed), then the guard is on.
    settings.MCP_ALLOW_PRIVATE_URLS = True
    server = store_for(agent, shop, McpServer.Transport.STREAMABLE_HTTP)
    settings.MCP_ALLOW_PRIVATE_URLS = False
    shop.calls.clear()

    assert tools_list(server) == []
    outcome = tool_call(server, "search_products", {"query": "tent"})
    assert not outcome.ok
    assert outcome.error.startswith("refused: 127.0.0.1 resolves to a private")
    assert shop.calls == []  # the request never left


def test_with_the_guard_lifted_the_local_store_answers(
    agent: Agent, shop: Shop, settings: Any
) -> None:
    settings.MCP_ALLOW_PRIVATE_URLS = True
    server = store_for(agent, shop, McpServer.Transport.STREAMABLE_HTTP)
    assert tool_call(server, "search_products", {"query": "tent"}).ok
