"""The hostile suite's personas: each test plays an attacker against the real platform.

- `owner_a`: owner of workspace A (Acme), the victim tenant.
- `double_agent`: a *support* agent in A who *owns* workspace B (Globex) — their manager
  role in B must never count in A.
- `outsider`: a staff user who owns workspace C and has nothing to do with A.
- `read_only_key` / `write_key`: workspace A's API keys (plain text, as presented).
- `agent_a` / `agent_b`: an agent (with its widget) in A and in B.
- `visitor_session(agent)`: an anonymous widget session on an allowed origin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from agents.models import Agent
from conftest import make_agent
from workspaces.api_keys import api_key_issue
from workspaces.models import Membership, Workspace

SITE_A = "https://shop.acme.example"
SITE_B = "https://globex.example.net"


def staff_user(username: str, **extra: Any) -> Any:
    return get_user_model().objects.create_user(
        username=username, password="pw-" + username, is_staff=True, **extra
    )


@pytest.fixture
def workspace_a(db: Any) -> Workspace:
    return Workspace.objects.create(name="Acme", slug="acme")


@pytest.fixture
def workspace_b(db: Any) -> Workspace:
    return Workspace.objects.create(name="Globex", slug="globex")


@pytest.fixture
def workspace_c(db: Any) -> Workspace:
    return Workspace.objects.create(name="Initech", slug="initech")


@pytest.fixture
def owner_a(workspace_a: Workspace) -> Any:
    user = staff_user("owner-a")
    Membership.objects.create(workspace=workspace_a, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def double_agent(workspace_a: Workspace, workspace_b: Workspace) -> Any:
    user = staff_user("double-agent")
    Membership.objects.create(workspace=workspace_a, user=user, role=Membership.Role.AGENT)
    Membership.objects.create(workspace=workspace_b, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def outsider(workspace_c: Workspace) -> Any:
    user = staff_user("outsider")
    Membership.objects.create(workspace=workspace_c, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def agent_a(workspace_a: Workspace) -> Agent:
    return make_agent(workspace_a, name="Acme helper", domains=["shop.acme.example"])


@pytest.fixture
def agent_b(workspace_b: Workspace) -> Agent:
    return make_agent(workspace_b, name="Globex helper", domains=["globex.example.net"])


@pytest.fixture
def read_only_key(workspace_a: Workspace) -> str:
    return api_key_issue(workspace_id=workspace_a.pk, name="reporting", can_write=False)[1]


@pytest.fixture
def write_key(workspace_a: Workspace) -> str:
    return api_key_issue(workspace_id=workspace_a.pk, name="automation", can_write=True)[1]


@pytest.fixture
def admin_client_as() -> Callable[[Any], Client]:
    """A browser signed in to the admin as `user`."""

    def sign_in(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def visitor_session(client: Client) -> Callable[..., dict[str, Any]]:
    """`visitor_session(agent, origin=..., **body)`: the JSON of a widget session start."""

    def start(agent: Agent, *, origin: str = SITE_A, **body: Any) -> dict[str, Any]:
        response = client.post(
            "/api/v2/widget/session",
            data={"agentId": agent.public_id, **body},
            content_type="application/json",
            headers={"origin": origin},
        )
        assert response.status_code == 200, response.content
        return dict(response.json())

    return start
