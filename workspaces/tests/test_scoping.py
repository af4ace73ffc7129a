"""Personas: the owner and teammate see their workspace; the outsider sees none of it."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from conversations.models import Conversation, Message


@pytest.fixture
def conversation(agent) -> Conversation:
    conversation = Conversation.objects.create(agent=agent, visitor_id="vis_aaaaaaaaaaaaaaaa")
    Message.objects.create(
        conversation=conversation, role="customer", text="acme secret question", client_id="c1"
    )
    return conversation


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestAdminScoping:
    def test_owner_sees_their_agents_and_conversations(self, owner, agent, conversation) -> None:
        client = admin_client(owner)
        assert agent.public_id in client.get("/admin/agents/agent/").content.decode()
        page = client.get(f"/admin/conversations/conversation/{conversation.pk}/change/")
        assert page.status_code == 200
        assert "acme secret question" in page.content.decode()

    def test_outsider_sees_no_other_workspace(
        self, outsider, agent, conversation, other_agent
    ) -> None:
        client = admin_client(outsider)
        agents_page = client.get("/admin/agents/agent/").content.decode()
        assert agent.public_id not in agents_page and other_agent.public_id in agents_page
        for url in (
            "/admin/conversations/conversation/",
            "/admin/conversations/message/",
            "/admin/agents/knowledgearticle/",
        ):
            body = client.get(url).content.decode()
            assert "acme secret question" not in body
            assert conversation.public_id not in body
            assert "Shipping times" not in body
        for url in (
            f"/admin/agents/agent/{agent.pk}/change/",
            f"/admin/conversations/conversation/{conversation.pk}/change/",
            f"/admin/conversations/message/{conversation.messages.get().pk}/change/",
        ):
            # Django's admin redirects a missing object to the index with a message.
            response = client.get(url)
            assert response.status_code in (302, 404)
            assert "acme secret question" not in response.content.decode()

    def test_outsider_cannot_put_an_agent_into_another_workspace(self, outsider, workspace) -> None:
        client = admin_client(outsider)
        response = client.post(
            "/admin/agents/agent/add/",
            {
                "workspace": workspace.pk,
                "name": "Intruder",
                "greeting": "hi",
                "widget_config-TOTAL_FORMS": "0",
                "widget_config-INITIAL_FORMS": "0",
                "articles-TOTAL_FORMS": "0",
                "articles-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 200  # the form comes back with an error
        assert not workspace.agents.filter(name="Intruder").exists()

    def test_teammate_can_read_but_not_edit_agents(self, teammate, agent) -> None:
        client = admin_client(teammate)
        assert client.get(f"/admin/agents/agent/{agent.pk}/change/").status_code == 200
        response = client.post(f"/admin/agents/agent/{agent.pk}/change/", {"name": "Renamed"})
        assert response.status_code == 403
        agent.refresh_from_db()
        assert agent.name == "Helper"

    def test_superuser_sees_everything(self, django_user_model, agent, other_agent) -> None:
        root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
        body = admin_client(root).get("/admin/agents/agent/").content.decode()
        assert agent.public_id in body and other_agent.public_id in body


@pytest.mark.django_db
class TestApiScoping:
    def api(self, user) -> APIClient:
        client = APIClient()
        response = client.post(
            "/api/v2/auth/token",
            {"username": user.username, "password": "pw-" + user.username},
            format="json",
        )
        assert response.status_code == 200
        client.credentials(HTTP_AUTHORIZATION="Bearer " + response.json()["access"])
        return client

    def test_owner_lists_and_reads_their_agents(self, owner, agent, other_agent) -> None:
        client = self.api(owner)
        listing = client.get("/api/v2/agents/").json()
        assert [a["id"] for a in listing["results"]] == [agent.public_id]
        assert client.get(f"/api/v2/agents/{agent.public_id}").json()["name"] == "Helper"

    def test_outsider_gets_404_for_another_workspaces_agent(self, outsider, agent) -> None:
        client = self.api(outsider)
        assert agent.public_id not in str(client.get("/api/v2/agents/").json())
        response = client.get(f"/api/v2/agents/{agent.public_id}")
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}

    def test_anonymous_callers_get_401(self, agent) -> None:
        response = APIClient().get("/api/v2/agents/")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

    def test_token_refresh_and_schema(self, owner) -> None:
        client = APIClient()
        pair = client.post(
            "/api/v2/auth/token", {"username": "owner", "password": "pw-owner"}, format="json"
        ).json()
        refreshed = client.post(
            "/api/v2/auth/token/refresh", {"refresh": pair["refresh"]}, format="json"
        )
        assert refreshed.status_code == 200 and refreshed.json()["access"]
        schema = self.api(owner).get("/api/v2/schema/")
        assert schema.status_code == 200
        assert b"/api/v2/widget/session" in schema.content


@pytest.mark.django_db
def test_an_owner_elsewhere_edits_here_only_as_their_role_here(agent, outsider) -> None:
    """Admin rights follow the role in the object's own workspace, not the user's best role."""
    from django.test import Client

    from workspaces.models import Membership

    Membership.objects.create(workspace=agent.workspace, user=outsider, role="agent")
    client = Client()
    client.force_login(outsider)
    url = f"/admin/agents/agent/{agent.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200  # a member may look
    assert not page.context["has_change_permission"]
    response = client.post(url, {"name": "Hijacked", "workspace": agent.workspace_id})
    assert response.status_code == 403
    agent.refresh_from_db()
    assert agent.name != "Hijacked"
    assert (
        client.post(f"/admin/agents/agent/{agent.pk}/delete/", {"post": "yes"}).status_code == 403
    )
