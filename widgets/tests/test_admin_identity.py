"""The agent's Identity page: only the workspace's managers, every secret action audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from customers.keys import identity_secret_rotate
from customers.models import IdentityKey
from security.models import AuditEntry
from workspaces.models import Membership

pytestmark = pytest.mark.django_db


def page(agent: Agent) -> str:
    return reverse("admin:agents_agent_identity", args=[agent.pk])


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_the_agent_page_links_to_identity(client: Client, owner: Any, agent: Agent) -> None:
    response = signed_in(client, owner).get(reverse("admin:agents_agent_change", args=[agent.pk]))
    assert response.status_code == 200
    assert page(agent) in response.content.decode()
    assert "identity_required" in response.content.decode()


def test_generate_reveal_rotate_and_retire(client: Client, owner: Any, agent: Agent) -> None:
    signed_in(client, owner)
    response = client.post(page(agent), {"action": "rotate", "grace_hours": "0"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    first = IdentityKey.objects.get(agent=agent)
    html = response.content.decode()
    assert 'data-ca="secret"' in html
    response = client.post(page(agent), {"action": "reveal", "key_id": first.key_id})
    secret = response.context["revealed"][first.key_id]
    assert len(secret) == 64 and secret in response.content.decode()
    response = client.post(page(agent), {"action": "rotate", "grace_hours": "6"})
    first.refresh_from_db()
    assert first.retires_at is not None
    assert timedelta(hours=5) < first.retires_at - datetime.now(UTC) <= timedelta(hours=6)
    assert "retiring" in response.content.decode()
    client.post(page(agent), {"action": "retire", "key_id": first.key_id})
    first.refresh_from_db()
    assert first.retires_at <= datetime.now(UTC)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"identity.secret.rotate", "identity.secret.reveal", "identity.key.retire"} <= actions


def test_retire_now_asks_first_without_any_script(client: Client, owner: Any, agent: Agent) -> None:
    key, _secret = identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)
    signed_in(client, owner)
    html = client.get(page(agent)).content.decode()
    assert f'data-ca="retire-{key.key_id}"' in html and "onclick" not in html
    asked = client.post(page(agent), {"action": "retire_confirm", "key_id": key.key_id})
    key.refresh_from_db()
    assert key.retires_at is None  # only asked
    assert 'data-ca="retire-confirm"' in asked.content.decode()
    assert 'value="retire"' in asked.content.decode()
    client.post(page(agent), {"action": "retire", "key_id": key.key_id})
    key.refresh_from_db()
    assert key.retires_at is not None and key.retires_at <= datetime.now(UTC)


def test_require_verified_customers_is_a_switch_and_audited(
    client: Client, owner: Any, agent: Agent
) -> None:
    signed_in(client, owner).post(page(agent), {"action": "require", "required": "on"})
    agent.refresh_from_db()
    assert agent.identity_required
    client.post(page(agent), {"action": "require"})
    agent.refresh_from_db()
    assert not agent.identity_required
    assert AuditEntry.objects.filter(action="identity.required").count() == 2


def test_the_token_tester_explains_why_a_token_fails(
    client: Client, owner: Any, agent: Agent
) -> None:
    _, secret = identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)
    now = datetime.now(UTC)
    expired = jwt.encode(
        {"sub": "cust_ana", "exp": int((now - timedelta(hours=1)).timestamp())},
        secret,
        algorithm="HS256",
    )
    response = signed_in(client, owner).post(page(agent), {"action": "test", "token": expired})
    assert "Refused (expired)" in response.content.decode()
    good = jwt.encode(
        {"sub": "cust_ana", "name": "Ana", "exp": int((now + timedelta(hours=1)).timestamp())},
        secret,
        algorithm="HS256",
    )
    response = client.post(page(agent), {"action": "test", "token": good})
    html = response.content.decode()
    assert "Valid." in html and "cust_ana" in html
    response = client.post(page(agent), {"action": "test", "token": "<script>x</script>"})
    html = response.content.decode()
    assert "Refused (malformed)" in html and "<script>x</script>" not in html


def test_a_bad_public_key_is_explained(client: Client, owner: Any, agent: Agent) -> None:
    response = signed_in(client, owner).post(
        page(agent), {"action": "add_public_key", "pem": "-----BEGIN PRIVATE KEY-----\nabc"}
    )
    assert "private key" in response.content.decode()
    assert not IdentityKey.objects.filter(agent=agent).exists()


def test_support_agents_and_other_workspaces_reach_nothing(
    client: Client, teammate: Any, outsider: Any, agent: Agent
) -> None:
    identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)
    key = IdentityKey.objects.get(agent=agent)
    for user in (teammate, outsider):
        signed_in(client, user)
        assert client.get(page(agent)).status_code == 404
        response = client.post(page(agent), {"action": "reveal", "key_id": key.key_id})
        assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="identity.secret.reveal").exists()


def test_a_manager_of_one_workspace_is_no_manager_of_another(
    client: Client, outsider: Any, agent: Agent
) -> None:
    # The outsider manages their own workspace and is a mere agent in this one.
    Membership.objects.create(workspace=agent.workspace, user=outsider, role=Membership.Role.AGENT)
    assert signed_in(client, outsider).get(page(agent)).status_code == 404
