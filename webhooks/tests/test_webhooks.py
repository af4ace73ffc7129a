"""Outbound webhooks against a real local HTTP receiver: signed as CONTRACT.md says (checked
here by an independent implementation), retried until delivered, rotated with two
signatures, paused when they keep failing, and emitted by the conversation services."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from agents.models import Agent
from conversations.parties import Party
from conversations.services import message_receive
from conversations.staff import conversation_resolve, staff_note, staff_reply
from security.ids import new_visitor_id
from security.models import AuditEntry
from webhooks.delivery import BACKOFF, PAUSE_AFTER, deliveries_due, delivery_attempt
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_endpoint_create, webhook_secret_rotate, webhook_test_send

pytestmark = pytest.mark.django_db


def sent_now() -> None:
    """The due deliveries, attempted here: in services mode their task went to the broker,
    embedded (eager Celery) it already ran and they are done."""
    deliveries_due()


def verified(header: str, body: bytes, secret: str) -> bool:
    """The receiver's check, written from CONTRACT.md alone."""
    parts = [part.split("=", 1) for part in header.split(",")]
    timestamp = next(value for key, value in parts if key == "t")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return any(
        key == "v1" and hmac.compare_digest(value, expected.hexdigest()) for key, value in parts
    )


def endpoint_for(agent: Agent, owner: Any, url: str, events: list[str]) -> tuple[Any, str]:
    return webhook_endpoint_create(workspace=agent.workspace, url=url, events=events, by=owner)


def visitor_says(agent: Agent, text: str, client_id: str = "c-1") -> Any:
    party = Party(visitor_id=new_visitor_id())
    return message_receive(agent=agent, party=party, client_id=client_id, text=text).message


def test_a_visitor_message_reaches_the_endpoint_signed(
    agent: Agent, owner: Any, receiver_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    receiver = receiver_factory()
    endpoint, secret = endpoint_for(
        agent, owner, receiver.url, ["conversation.created", "message.created"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        question = visitor_says(agent, "Where is my order?")
    sent_now()  # the first attempt, whether or not a worker ran it

    kinds = [event["type"] for event in receiver.events()]
    assert "conversation.created" in kinds and "message.created" in kinds
    headers, body = next(
        r for r in receiver.requests if json.loads(r[1])["type"] == "message.created"
    )
    assert verified(headers["CustomerAgent-Signature"], body, secret)
    assert not verified(headers["CustomerAgent-Signature"], body, "whsec_wrong")
    event = json.loads(body)
    assert set(event) == {"id", "type", "createdAt", "data"} and event["id"].startswith("evt_")
    assert event["data"]["message"]["id"] == question.public_id
    assert event["data"]["message"]["role"] == "customer"
    assert event["data"]["conversationId"] == question.conversation.public_id
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event_id=event["id"])
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 1
    assert delivery.last_status_code == 200 and delivery.last_response == '{"ok": true}'


def test_a_failing_receiver_gets_the_event_again_until_it_answers(
    agent: Agent, owner: Any, receiver_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    receiver = receiver_factory([500, 503, 200])
    endpoint, _ = endpoint_for(agent, owner, receiver.url, ["conversation.created"])
    with django_capture_on_commit_callbacks(execute=True):
        visitor_says(agent, "Hello?")
    sent_now()  # the first attempt, whether or not a worker ran it
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at - timezone.now() <= BACKOFF[0]
    assert deliveries_due() == 0  # not due yet

    for _ in range(2):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert deliveries_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    ids = {event["id"] for event in receiver.events()}
    assert ids == {delivery.event_id}  # the same event, three times: de-duplicated by id
    assert delivery_attempt(delivery.pk) is None  # delivered: never sent again


def test_a_rotated_secret_signs_beside_the_old_one(
    agent: Agent, owner: Any, receiver_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    receiver = receiver_factory()
    endpoint, old = endpoint_for(agent, owner, receiver.url, ["message.created"])
    new = webhook_secret_rotate(endpoint, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_test_send(endpoint)
    sent_now()  # the first attempt, whether or not a worker ran it
    headers, body = receiver.requests[-1]
    signature = headers["CustomerAgent-Signature"]
    assert signature.count("v1=") == 2
    assert verified(signature, body, old) and verified(signature, body, new)
    assert json.loads(body)["type"] == "webhook.test"

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        webhook_test_send(WebhookEndpoint.objects.get(pk=endpoint.pk))
    sent_now()  # the first attempt, whether or not a worker ran it
    headers, body = receiver.requests[-1]
    assert headers["CustomerAgent-Signature"].count("v1=") == 1
    assert verified(headers["CustomerAgent-Signature"], body, new)
    assert not verified(headers["CustomerAgent-Signature"], body, old)
    assert AuditEntry.objects.filter(action="webhook.secret_rotated").count() == 1


def test_an_endpoint_that_keeps_failing_is_paused_and_its_owners_told(
    agent: Agent, owner: Any, receiver_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner.email = "owner@acme.example"
    owner.save()
    receiver = receiver_factory([500] * 100)
    endpoint, _ = endpoint_for(agent, owner, receiver.url, ["conversation.created"])
    for n in range(PAUSE_AFTER):
        with django_capture_on_commit_callbacks(execute=True):
            visitor_says(agent, f"Question {n}", client_id=f"c-{n}")  # a new visitor each
        sent_now()  # the first attempt, whether or not a worker ran it
        # Straight to the last attempt: every retry used.
        pending = WebhookDelivery.objects.filter(endpoint=endpoint, status="pending")
        pending.update(attempts=len(BACKOFF), next_attempt_at=timezone.now())
        deliveries_due()
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status="failed").count() == PAUSE_AFTER
    assert AuditEntry.objects.filter(action="webhook.paused", target=receiver.url).exists()
    assert mail.outbox and mail.outbox[-1].to == ["owner@acme.example"]

    sent = len(receiver.requests)
    with django_capture_on_commit_callbacks(execute=True):
        visitor_says(agent, "Anyone there?", client_id="c-after")
    sent_now()  # the first attempt, whether or not a worker ran it
    assert len(receiver.requests) == sent  # paused: nothing more is sent
    assert not WebhookDelivery.objects.filter(endpoint=endpoint, status="pending").exists()


def test_staff_replies_and_resolutions_are_events_and_notes_are_not(
    agent: Agent, owner: Any, receiver_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    receiver = receiver_factory()
    endpoint_for(
        agent,
        owner,
        receiver.url,
        ["message.created", "conversation.assigned", "conversation.resolved"],
    )
    question = visitor_says(agent, "I need a person")
    conversation_id = question.conversation.public_id
    with django_capture_on_commit_callbacks(execute=True):
        staff_reply(user=owner, conversation_id=conversation_id, text="Hi, Sam here.")
        staff_note(user=owner, conversation_id=conversation_id, text="internal: VIP")
        conversation_resolve(user=owner, conversation_id=conversation_id)
    sent_now()  # the first attempt, whether or not a worker ran it
    events = receiver.events()
    kinds = [event["type"] for event in events]
    assert kinds.count("conversation.assigned") == 1 and kinds.count("conversation.resolved") == 1
    roles = [e["data"]["message"]["role"] for e in events if e["type"] == "message.created"]
    assert roles == ["staff"]  # the note and the system lines are not sent
    assert all("VIP" not in json.dumps(event) for event in events)
    resolved = next(e for e in events if e["type"] == "conversation.resolved")
    assert resolved["data"]["conversation"]["status"] == "resolved"
    assert resolved["data"]["resolvedBy"] == "human"


def test_a_workspace_without_webhooks_stores_no_deliveries(
    agent: Agent, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        visitor_says(agent, "Hello")
    sent_now()  # the first attempt, whether or not a worker ran it
    assert not WebhookDelivery.objects.exists()


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_creates_lists_and_removes_endpoints_per_workspace(
    agent: Agent, owner: Any, teammate: Any, outsider: Any, receiver_factory: Any
) -> None:
    receiver = receiver_factory()
    body = {"workspace": agent.workspace.slug, "url": receiver.url, "events": ["csat.submitted"]}
    created = api(owner).post("/api/v2/webhooks", body, format="json")
    assert created.status_code == 201, created.content
    made = created.json()
    assert made["secret"].startswith("whsec_") and made["status"] == "active"
    assert made["events"] == ["csat.submitted"]
    endpoint = WebhookEndpoint.objects.get(public_id=made["id"])
    assert made["secret"] not in endpoint.sealed_secret

    listed = api(teammate).get("/api/v2/webhooks")
    assert [row["id"] for row in listed.json()["results"]] == [made["id"]]
    assert "secret" not in listed.content.decode()
    assert api(teammate).post("/api/v2/webhooks", body, format="json").status_code == 403
    assert api(outsider).get(f"/api/v2/webhooks/{made['id']}").status_code == 404
    assert api(outsider).delete(f"/api/v2/webhooks/{made['id']}").status_code == 404
    assert api(teammate).delete(f"/api/v2/webhooks/{made['id']}").status_code == 403

    unknown = {**body, "events": ["message.deleted"]}
    refused = api(owner).post("/api/v2/webhooks", unknown, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_request"

    assert api(owner).delete(f"/api/v2/webhooks/{made['id']}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert AuditEntry.objects.filter(action="webhook.removed").exists()


def test_private_addresses_are_refused_unless_allowed(
    agent: Agent, owner: Any, settings: Any
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    for url in ("http://127.0.0.1:9/hooks", "http://169.254.169.254/latest", "file:///etc/passwd"):
        body = {"workspace": agent.workspace.slug, "url": url, "events": ["message.created"]}
        refused = api(owner).post("/api/v2/webhooks", body, format="json")
        assert refused.status_code == 400, (url, refused.content)
    assert not WebhookEndpoint.objects.exists()


def test_owners_redeliver_from_the_log_and_members_may_not(
    agent: Agent, owner: Any, teammate: Any, receiver_factory: Any, client: Any
) -> None:
    receiver = receiver_factory()
    endpoint, _ = endpoint_for(agent, owner, receiver.url, ["message.created"])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="message.created",
        payload={"id": "evt_x", "type": "message.created", "createdAt": "", "data": {}},
        status=WebhookDelivery.Status.FAILED,
        attempts=10,
    )
    action = {"action": "redeliver", "_selected_action": [delivery.pk]}
    client.force_login(teammate)
    client.post("/admin/webhooks/webhookdelivery/", action)
    delivery.refresh_from_db()
    assert delivery.status == "failed"  # a support agent may read the log, not resend
    client.force_login(owner)
    assert client.post("/admin/webhooks/webhookdelivery/", action).status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    page = client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and "evt_x" in page.content.decode()
