"""Knowledge articles and MCP server configs over the REST API, per workspace role."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from agents.models import Agent, KnowledgeArticle, McpServer
from conftest import make_agent
from security.models import AuditEntry
from security.sealing import unseal

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_members_read_and_managers_write_articles(owner: Any, teammate: Any, agent: Agent) -> None:
    base = f"/api/v2/agents/{agent.public_id}/knowledge"
    listed = api(teammate).get(base)
    assert listed.status_code == 200
    assert {row["title"] for row in listed.json()["results"]} >= {"Shipping times", "Warranty"}
    created = api(owner).post(
        base,
        {
            "title": "Gift cards",
            "body": "Gift cards never expire.",
            "sourceUrl": "https://x.example/gc",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    article_id = created.json()["id"]
    assert created.json()["isPublished"] is True
    changed = api(owner).patch(f"{base}/{article_id}", {"isPublished": False}, format="json")
    assert changed.status_code == 200 and changed.json()["isPublished"] is False
    assert api(teammate).post(base, {"title": "x", "body": "y"}, format="json").status_code == 403
    assert api(teammate).delete(f"{base}/{article_id}").status_code == 403
    assert api(owner).delete(f"{base}/{article_id}").status_code == 204
    assert not KnowledgeArticle.objects.filter(pk=article_id).exists()


def test_another_workspace_sees_nothing(outsider: Any, agent: Agent) -> None:
    article = agent.articles.first()
    assert article is not None
    base = f"/api/v2/agents/{agent.public_id}"
    for path in ("/knowledge", f"/knowledge/{article.pk}", "/integrations"):
        response = api(outsider).get(base + path)
        assert response.status_code == 404, path
        assert "Shipping" not in response.content.decode()
    response = api(outsider).post(base + "/knowledge", {"title": "x", "body": "y"}, format="json")
    assert response.status_code == 404


def test_an_article_of_another_agent_is_not_reachable_through_mine(
    owner: Any, agent: Agent, workspace: Any
) -> None:
    sibling = make_agent(workspace, name="Sibling")
    theirs = KnowledgeArticle.objects.create(agent=sibling, title="t", body="b")
    response = api(owner).get(f"/api/v2/agents/{agent.public_id}/knowledge/{theirs.pk}")
    assert response.status_code == 404


def test_mcp_servers_keep_headers_sealed_and_write_only(owner: Any, agent: Agent) -> None:
    base = f"/api/v2/agents/{agent.public_id}/integrations"
    created = api(owner).post(
        base,
        {
            "name": "Shop",
            "url": "https://shop.example/mcp",
            "preset": "shopify",
            "allowedTools": ["get_customer_orders", "search_products"],
            "privateTools": ["get_customer_orders"],
            "headers": {"Authorization": "Bearer s3cret"},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["hasHeaders"] is True and "headers" not in body
    assert "s3cret" not in created.content.decode()
    server = McpServer.objects.get(pk=body["id"])
    assert "s3cret" not in server.sealed_headers
    assert unseal(server.sealed_headers) == '{"Authorization": "Bearer s3cret"}'
    listed = api(owner).get(base)
    assert "s3cret" not in listed.content.decode()
    bad = api(owner).patch(
        f"{base}/{server.pk}", {"privateTools": ["delete_everything"]}, format="json"
    )
    assert bad.status_code == 400
    bad = api(owner).patch(f"{base}/{server.pk}", {"url": "file:///etc/passwd"}, format="json")
    assert bad.status_code == 400
    cleared = api(owner).patch(f"{base}/{server.pk}", {"headers": {}}, format="json")
    assert cleared.status_code == 200 and cleared.json()["hasHeaders"] is False


def test_the_api_saves_a_server_by_the_admin_rules(owner: Any, agent: Agent) -> None:
    """One set of rules (agents.integrations.servers): the preset fills what is left blank,
    a header value must be one line, and changing headers is audited by name only."""
    base = f"/api/v2/agents/{agent.public_id}/integrations"
    injected = {"Authorization": "Bearer a\r\nX-Evil: 1"}
    refused = api(owner).post(
        base,
        {"name": "Shop", "url": "https://shop.example/mcp", "headers": injected},
        format="json",
    )
    assert refused.status_code == 400, refused.content
    assert "one line" in refused.content.decode()
    assert not McpServer.objects.filter(agent=agent).exists()

    created = api(owner).post(
        base,
        {
            "name": "Shop",
            "url": "https://shop.example/mcp",
            "preset": "shopify",
            "headers": {"Authorization": "Bearer " + "x" * 3000},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    server = McpServer.objects.get(pk=created.json()["id"])
    assert server.allowed_tools == ["get_customer_orders", "get_order_status", "search_products"]
    assert server.private_tools == ["get_customer_orders", "get_order_status"]
    assert server.customer_id_argument == "customer_id"
    entry = AuditEntry.objects.get(action="mcp.headers_changed")
    assert entry.changes == {"headers": ["Authorization"]} and entry.actor == owner
    assert "xxx" not in str(entry.changes)
