"""The inbox page in the admin, its links, and the agent's handoff settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from agents.admin import AgentForm
from conversations.models import Conversation

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_the_admin_login(client: Client) -> None:
    response = client.get("/admin/inbox/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_teammate_sees_their_workspaces_open_conversations(teammate, agent, other_agent) -> None:
    Conversation.objects.create(agent=agent, visitor_id="vis_ours0000000001", status="waiting")
    Conversation.objects.create(agent=other_agent, visitor_id="vis_theirs00000001")
    response = logged_in(teammate).get("/admin/inbox/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "vis_ours0000" in page and "vis_theirs00" not in page
    # Behaviour comes from a static file: the CSP allows no inline script.
    assert "conversations/inbox.js" in page and "<script>" not in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_staff_of_no_workspace_are_refused() -> None:
    drifter = get_user_model().objects.create_user(
        username="drifter", password="pw-drifter", is_staff=True
    )
    assert logged_in(drifter).get("/admin/inbox/").status_code == 403


def test_the_admin_home_and_the_conversations_link_to_the_inbox(teammate, agent) -> None:
    client = logged_in(teammate)
    assert 'href="/admin/inbox/"' in client.get("/admin/").content.decode()
    listing = client.get("/admin/conversations/conversation/").content.decode()
    assert 'href="/admin/inbox/"' in listing
    conversation = Conversation.objects.create(agent=agent, visitor_id="vis_link0000000001")
    change = client.get(f"/admin/conversations/conversation/{conversation.pk}/change/")
    assert f'href="/admin/inbox/#{conversation.public_id}"' in change.content.decode()


def agent_form(agent: Any, **fields: Any) -> AgentForm:
    data = {
        "workspace": agent.workspace_id,
        "name": agent.name,
        "pii_region": "US",
        "responder": "knowledge",
        "llm_max_output_tokens": 600,
        "llm_timeout_seconds": 20,
        **fields,
    }
    return AgentForm(data=data, instance=agent)


def test_business_hours_are_checked_with_a_clear_error(agent) -> None:
    form = agent_form(agent, business_hours='{"timezone": "Europe/Pariss", "days": {}}')
    assert not form.is_valid()
    assert "Unknown time zone 'Europe/Pariss'" in form.errors["business_hours"][0]
    good = agent_form(
        agent,
        business_hours='{"timezone": "Europe/Paris", "days": {"mon": [["09:00", "17:30"]]}}',
        handoff_keywords='["refund", " lawyer "]',
        handoff_vip_attribute="vip",
        away_message="Back at 9.",
    )
    assert good.is_valid(), good.errors
    saved = good.save()
    assert saved.handoff_keywords == ["refund", "lawyer"]
    assert saved.business_hours["timezone"] == "Europe/Paris"


def test_keywords_must_be_a_list_of_words(agent) -> None:
    form = agent_form(agent, handoff_keywords='"refund"')
    assert not form.is_valid()
    assert "JSON list" in form.errors["handoff_keywords"][0]
