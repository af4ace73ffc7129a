"""Workspace API keys: shown once, stored as a digest, scoped to their workspace, revocable."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from agents.models import Agent
from conversations.models import Conversation
from security.models import AuditEntry
from workspaces.api_keys import api_key_issue, api_key_revoke
from workspaces.models import ApiKey

pytestmark = pytest.mark.django_db


def keyed(plain: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    return client


def test_a_key_reads_its_workspace_only(agent: Agent, other_agent: Agent) -> None:
    _, plain = api_key_issue(workspace_id=agent.workspace_id, name="CRM", can_write=False)
    key = ApiKey.objects.get()
    assert plain.startswith(f"ca_{key.prefix}_") and plain.split("_", 2)[2] not in key.digest
    agents = keyed(plain).get("/api/v2/agents/").json()["results"]
    assert [a["id"] for a in agents] == [agent.public_id]
    assert keyed(plain).get(f"/api/v2/agents/{other_agent.public_id}").status_code == 404
    Conversation.objects.create(agent=other_agent, visitor_id="vis_aaaaaaaaaaaaaaaa")
    assert keyed(plain).get("/api/v2/conversations/").json()["results"] == []
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_read_only_keys_cannot_write_and_write_keys_can(agent: Agent) -> None:
    _, reader = api_key_issue(workspace_id=agent.workspace_id, name="BI", can_write=False)
    _, writer = api_key_issue(workspace_id=agent.workspace_id, name="CMS", can_write=True)
    url = f"/api/v2/agents/{agent.public_id}/knowledge"
    body = {"title": "Gift cards", "body": "They never expire."}
    assert keyed(reader).post(url, body, format="json").status_code == 403
    assert keyed(writer).post(url, body, format="json").status_code == 201


@pytest.mark.parametrize(
    "presented",
    ["", "ca_", "ca_deadbeef_nope", "Bearer x", "ca_" + "x" * 200, "ca_12345678_" + "a" * 43],
)
def test_forged_keys_are_401(agent: Agent, presented: str) -> None:
    api_key_issue(workspace_id=agent.workspace_id, name="CRM", can_write=True)
    response = keyed(presented).get("/api/v2/agents/")
    assert response.status_code == 401


def test_a_revoked_key_stops_at_once(agent: Agent) -> None:
    key, plain = api_key_issue(workspace_id=agent.workspace_id, name="CRM", can_write=False)
    assert keyed(plain).get("/api/v2/agents/").status_code == 200
    api_key_revoke(key)
    assert keyed(plain).get("/api/v2/agents/").status_code == 401
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "api_key.issue",
        "api_key.revoke",
    }


def test_the_admin_shows_the_key_once(client: Client, owner: Any, agent: Agent) -> None:
    client.force_login(owner)
    response = client.post(
        "/admin/workspaces/apikey/add/",
        {"workspace": agent.workspace_id, "name": "Zapier", "can_write": "on"},
    )
    assert response.status_code == 200
    plain = response.context["plain"]
    assert plain.startswith("ca_") and plain in response.content.decode()
    assert keyed(plain).get("/api/v2/agents/").status_code == 200
    listing = client.get("/admin/workspaces/apikey/").content.decode()
    assert "Zapier" in listing and plain not in listing


def test_support_agents_cannot_issue_keys(client: Client, teammate: Any, agent: Agent) -> None:
    client.force_login(teammate)
    response = client.post(
        "/admin/workspaces/apikey/add/", {"workspace": agent.workspace_id, "name": "x"}
    )
    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_a_manager_elsewhere_cannot_issue_keys_here(
    client: Client, outsider: Any, agent: Agent
) -> None:
    from workspaces.models import Membership

    Membership.objects.create(workspace=agent.workspace, user=outsider, role="agent")
    client.force_login(outsider)
    response = client.post(
        "/admin/workspaces/apikey/add/", {"workspace": agent.workspace_id, "name": "x"}
    )
    assert response.status_code == 200 and "workspace" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()
