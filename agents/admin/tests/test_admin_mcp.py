"""MCP servers in the admin: an inline on the agent with write-only sealed headers and the
Shopify preset, and the read-only tool-call log, scoped to the staff member's workspaces."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agents.integrations.mcp import headers_seal, server_headers
from agents.models import Agent, McpServer, ToolCall
from security.models import AuditEntry
from widgets.tests.test_admin_llm import change_form

pytestmark = pytest.mark.django_db

TOKEN = "shpat_0123456789abcdef"
HEADERS = '{"Authorization": "Bearer shpat_0123456789abcdef"}'


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(agent: Agent) -> str:
    return f"/admin/agents/agent/{agent.pk}/change/"


def with_server(agent: Agent, server: McpServer | None = None, **fields: str) -> dict[str, Any]:
    """The agent's change form with one MCP server row (new, or `server`)."""
    row = {
        "name": "Acme store",
        "preset": "shopify",
        "url": "https://acme.myshopify.com/api/mcp",
        "transport": "streamable_http",
        "headers": "",
        "allowed_tools": "[]",
        "private_tools": "[]",
        "customer_id_argument": "",
        "timeout_seconds": "10",
        "is_active": "on",
        **fields,
    }
    data = change_form(agent)
    data.update({f"mcp_servers-0-{name}": value for name, value in row.items()})
    data.update(
        {
            "mcp_servers-TOTAL_FORMS": "1",
            "mcp_servers-INITIAL_FORMS": "1" if server else "0",
            "mcp_servers-0-agent": str(agent.pk),
            "mcp_servers-0-id": str(server.pk) if server else "",
        }
    )
    return data


@pytest.fixture
def store(agent: Agent) -> McpServer:
    return McpServer.objects.create(
        agent=agent,
        name="Acme store",
        url="https://acme.myshopify.com/api/mcp",
        preset="shopify",
        allowed_tools=["search_products"],
        sealed_headers=headers_seal({"Authorization": f"Bearer {TOKEN}"}),
    )


def test_the_owner_adds_a_shopify_store_the_preset_fills_and_the_headers_are_sealed(
    owner: Any, agent: Agent
) -> None:
    response = logged_in(owner).post(change_url(agent), with_server(agent, headers=HEADERS))
    assert response.status_code == 302, response.content.decode()[:2000]

    server = McpServer.objects.get(agent=agent)
    assert server.allowed_tools == ["get_customer_orders", "get_order_status", "search_products"]
    assert server.private_tools == ["get_customer_orders", "get_order_status"]
    assert server.customer_id_argument == "customer_id"
    assert TOKEN not in server.sealed_headers
    assert server_headers(server) == {"Authorization": f"Bearer {TOKEN}"}
    entry = AuditEntry.objects.get(action="mcp.headers_changed")
    assert entry.changes == {"headers": ["Authorization"]} and entry.actor == owner
    assert entry.workspace_id == agent.workspace_id


def test_the_preset_never_overwrites_a_choice(owner: Any, agent: Agent) -> None:
    data = with_server(agent, allowed_tools='["search_products"]')
    assert logged_in(owner).post(change_url(agent), data).status_code == 302
    assert McpServer.objects.get(agent=agent).allowed_tools == ["search_products"]


def test_the_headers_are_never_shown_back(owner: Any, agent: Agent, store: McpServer) -> None:
    page = logged_in(owner).get(change_url(agent)).content.decode()
    assert TOKEN not in page and store.sealed_headers not in page
    assert "Authorization (sealed)" in page


def test_saving_without_headers_keeps_them_and_an_empty_object_removes_them(
    owner: Any, agent: Agent, store: McpServer
) -> None:
    client = logged_in(owner)
    assert client.post(change_url(agent), with_server(agent, store)).status_code == 302
    store.refresh_from_db()
    assert server_headers(store) == {"Authorization": f"Bearer {TOKEN}"}
    assert (
        client.post(change_url(agent), with_server(agent, store, headers="{}")).status_code == 302
    )
    store.refresh_from_db()
    assert store.sealed_headers == ""


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ("not json", "Invalid JSON"),
        ('["Authorization"]', "JSON object"),
        ('{"Bad Header": "x"}', "not a valid header name"),
        ('{"X-Key": "a\\nb"}', "one line"),
    ],
)
def test_bad_headers_are_refused(owner: Any, agent: Agent, headers: str, message: str) -> None:
    response = logged_in(owner).post(change_url(agent), with_server(agent, headers=headers))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not McpServer.objects.exists()


def test_the_last_calls_show_on_the_agent_page(owner: Any, agent: Agent, store: McpServer) -> None:
    ToolCall.objects.create(
        agent=agent, server=store, tool="get_order_status", ok=False, error="timed out after 10 s"
    )
    page = logged_in(owner).get(change_url(agent)).content.decode()
    assert "get_order_status" in page and "timed out after 10 s" in page
    assert f"/admin/agents/toolcall/?server__id__exact={store.pk}" in page
    log = logged_in(owner).get(f"/admin/agents/toolcall/?server__id__exact={store.pk}")
    assert log.status_code == 200 and "get_order_status" in log.content.decode()


def test_the_tool_call_log_is_read_only_and_scoped(
    owner: Any, teammate: Any, outsider: Any, agent: Agent, store: McpServer
) -> None:
    call = ToolCall.objects.create(agent=agent, server=store, tool="search_products", ok=True)
    assert "search_products" in logged_in(teammate).get("/admin/agents/toolcall/").content.decode()

    owners = logged_in(owner)
    assert owners.get(f"/admin/agents/toolcall/{call.pk}/change/").status_code == 200
    assert owners.get("/admin/agents/toolcall/add/").status_code == 403
    assert (
        owners.post(f"/admin/agents/toolcall/{call.pk}/delete/", {"post": "yes"}).status_code == 403
    )

    outsiders = logged_in(outsider)
    assert "search_products" not in outsiders.get("/admin/agents/toolcall/").content.decode()
    assert outsiders.get(f"/admin/agents/toolcall/{call.pk}/change/").status_code == 302


def test_a_support_agent_cannot_change_the_servers(
    teammate: Any, agent: Agent, store: McpServer
) -> None:
    response = logged_in(teammate).post(change_url(agent), with_server(agent, store, name="Mine"))
    assert response.status_code == 403
    store.refresh_from_db()
    assert store.name == "Acme store"


def test_a_support_agent_sees_the_servers_without_their_headers(
    teammate: Any, agent: Agent, store: McpServer
) -> None:
    page = logged_in(teammate).get(change_url(agent))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme store" in html and "Authorization (sealed)" in html
    assert TOKEN not in html and store.sealed_headers not in html
