"""Conversations and transcripts over the REST API: filters, notes for staff, scoping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from agents.models import Agent
from analytics.models import WidgetEvent
from conversations.models import Conversation, Message
from customers.models import Customer
from customers.profiles import memory_remember
from security.models import AuditEntry

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def threads(agent: Agent, owner: Any) -> dict[str, Conversation]:
    ana = Customer.objects.create(
        workspace=agent.workspace, external_id="cust_ana", is_verified=True, name="Ana"
    )
    waiting = Conversation.objects.create(
        agent=agent, visitor_id="vis_aaaaaaaaaaaaaaaa", customer=ana, status="waiting"
    )
    Message.objects.create(conversation=waiting, role="customer", text="Where is my tent?")
    Message.objects.create(conversation=waiting, role="note", text="VIP, be quick", author=owner)
    bot = Conversation.objects.create(agent=agent, visitor_id="vis_bbbbbbbbbbbbbbbb")
    Message.objects.create(conversation=bot, role="customer", text="Do you ship to Canada?")
    return {"waiting": waiting, "bot": bot}


def test_list_filters_and_shapes(teammate: Any, threads: dict[str, Conversation]) -> None:
    rows = api(teammate).get("/api/v2/conversations/").json()["results"]
    assert {r["id"] for r in rows} == {c.public_id for c in threads.values()}
    waiting = api(teammate).get("/api/v2/conversations/?status=waiting").json()["results"]
    assert [r["id"] for r in waiting] == [threads["waiting"].public_id]
    assert waiting[0]["customer"]["externalId"] == "cust_ana"
    assert waiting[0]["customer"]["verified"] is True
    found = api(teammate).get("/api/v2/conversations/?q=canada").json()["results"]
    assert [r["id"] for r in found] == [threads["bot"].public_id]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (
        api(teammate).get("/api/v2/conversations/", {"updatedSince": future}).json()["results"]
        == []
    )
    customer = threads["waiting"].customer
    assert customer is not None
    by_customer = api(teammate).get(f"/api/v2/conversations/?customer={customer.pk}").json()
    assert [r["id"] for r in by_customer["results"]] == [threads["waiting"].public_id]
    unassigned = api(teammate).get("/api/v2/conversations/?assigned=none").json()["results"]
    assert len(unassigned) == 2


@pytest.mark.parametrize(
    "query",
    ["status=open", "customer=abc", "updatedSince=yesterday", "updatedSince=2026-01-01T00:00"],
)
def test_bad_filters_are_typed_400s(teammate: Any, threads: Any, query: str) -> None:
    response = api(teammate).get(f"/api/v2/conversations/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_staff_transcript_includes_notes_with_authors(
    teammate: Any, threads: dict[str, Conversation]
) -> None:
    conversation = threads["waiting"]
    body = api(teammate).get(f"/api/v2/conversations/{conversation.public_id}/messages").json()
    roles = [(m["role"], m["author"]) for m in body["results"]]
    assert roles == [("customer", None), ("note", "owner")]
    first = body["results"][0]["id"]
    after = (
        api(teammate)
        .get(f"/api/v2/conversations/{conversation.public_id}/messages?after={first}")
        .json()
    )
    assert [m["text"] for m in after["results"]] == ["VIP, be quick"]


def test_another_workspace_gets_404_and_nothing_else(
    outsider: Any, threads: dict[str, Conversation]
) -> None:
    assert api(outsider).get("/api/v2/conversations/").json()["results"] == []
    conversation = threads["waiting"]
    for path in ("", "/messages"):
        response = api(outsider).get(f"/api/v2/conversations/{conversation.public_id}{path}")
        assert response.status_code == 404
        assert "tent" not in response.content.decode()


def test_anonymous_callers_are_refused(threads: Any) -> None:
    assert APIClient().get("/api/v2/conversations/").status_code == 401


def test_staff_reply_note_take_release_resolve_over_the_api(
    teammate: Any, threads: dict[str, Conversation]
) -> None:
    conversation = threads["waiting"]
    base = f"/api/v2/conversations/{conversation.public_id}"
    taken = api(teammate).post(f"{base}/take", {}, format="json")
    assert taken.status_code == 200, taken.content
    assert (taken.json()["status"], taken.json()["assignedTo"]) == ("assigned", "teammate")
    reply = api(teammate).post(f"{base}/messages", {"text": "Hi, Sam here"}, format="json")
    assert reply.status_code == 201 and reply.json()["role"] == "staff"
    note = api(teammate).post(
        f"{base}/messages", {"text": "check the order", "internal": True}, format="json"
    )
    assert note.status_code == 201 and note.json()["role"] == "note"
    released = api(teammate).post(f"{base}/release", {}, format="json").json()
    assert released["status"] == "bot" and released["assignedTo"] is None
    resolved = api(teammate).post(f"{base}/resolve", {}, format="json").json()
    assert resolved["status"] == "resolved" and resolved["resolvedBy"] == "human"
    assert api(teammate).post(f"{base}/messages", {"text": ""}, format="json").status_code == 400


def test_api_keys_read_but_do_not_speak_for_staff(
    agent: Agent, threads: dict[str, Conversation], outsider: Any
) -> None:
    from workspaces.api_keys import api_key_issue

    _, plain = api_key_issue(workspace_id=agent.workspace_id, name="bot", can_write=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    base = f"/api/v2/conversations/{threads['waiting'].public_id}"
    assert client.get(base).status_code == 200
    assert client.post(f"{base}/take", {}, format="json").status_code == 403
    assert api(outsider).post(f"{base}/resolve", {}, format="json").status_code == 404


def test_a_customer_export_holds_exactly_their_data(
    owner: Any, teammate: Any, agent: Agent, other_agent: Agent
) -> None:
    """An access request: the customer's profile, memory, conversations and events, and
    nothing of anyone else's (another customer of the same workspace, another workspace)."""
    ana = Customer.objects.create(
        workspace=agent.workspace, external_id="cust_ana", is_verified=True, email="ana@x.example"
    )
    bob = Customer.objects.create(workspace=agent.workspace, external_id="cust_bob")
    theirs = Customer.objects.create(workspace=other_agent.workspace, external_id="cust_ana")
    memory_remember(customer=ana, key="plan", value="pro", source="staff", source_ref="owner")
    memory_remember(customer=bob, key="plan", value="bob-secret", source="staff")
    mine = Conversation.objects.create(agent=agent, visitor_id="vis_a", customer=ana)
    Message.objects.create(conversation=mine, role="customer", text="Where is order 1042?")
    Message.objects.create(conversation=mine, role="note", text="internal: VIP")
    bobs = Conversation.objects.create(agent=agent, visitor_id="vis_b", customer=bob)
    Message.objects.create(conversation=bobs, role="customer", text="bob's question")
    other = Conversation.objects.create(agent=other_agent, visitor_id="vis_c", customer=theirs)
    Message.objects.create(conversation=other, role="customer", text="other workspace")
    WidgetEvent.objects.create(
        workspace=agent.workspace, agent_id=agent.public_id, event="open", customer_id=str(ana.pk)
    )
    WidgetEvent.objects.create(
        workspace=agent.workspace, agent_id=agent.public_id, event="open", customer_id=str(bob.pk)
    )

    response = api(owner).get(f"/api/v2/customers/{ana.pk}/export")
    assert response.status_code == 200, response.content
    assert "attachment" in response["Content-Disposition"]
    document = response.json()
    text = json.dumps(document)
    assert document["customer"]["externalId"] == "cust_ana" and document["customer"]["verified"]
    assert [m["value"] for m in document["memory"]] == ["pro"]
    assert [c["id"] for c in document["conversations"]] == [mine.public_id]
    assert [m["text"] for m in document["conversations"][0]["messages"]] == ["Where is order 1042?"]
    assert len(document["events"]) == 1
    for foreign in ("bob-secret", "bob's question", "other workspace", "VIP", bobs.public_id):
        assert foreign not in text
    assert AuditEntry.objects.filter(action="customer.exported", actor=owner).count() == 1

    assert api(teammate).get(f"/api/v2/customers/{ana.pk}/export").status_code == 403
    assert api(owner).get(f"/api/v2/customers/{theirs.pk}/export").status_code == 404
