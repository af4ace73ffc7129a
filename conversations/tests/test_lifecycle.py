"""Resolving a conversation reaches the visitor's widget, which may rate it once."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from analytics.models import WidgetEvent
from conversations.lifecycle import conversation_status_set
from conversations.models import Conversation
from conversations.tests.test_consumer import frames_until, ready

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


async def resolved_conversation(agent, communicator) -> Conversation:
    await communicator.send_json_to({"type": "message.send", "clientId": "c-1", "text": "Hi"})
    ack = (await frames_until(communicator, lambda f: f["type"] == "message.ack"))[-1]
    # The agent's answer first: arriving after the resolution it would race the checks below.
    await frames_until(communicator, lambda f: f["type"] == "message" and f["role"] == "agent")
    conversation = await sync_to_async(
        lambda: Conversation.objects.get(messages__public_id=ack["id"])
    )()
    await sync_to_async(conversation_status_set)(conversation=conversation, status="resolved")
    frame = (await frames_until(communicator, lambda f: f["type"] == "conversation.status"))[-1]
    assert frame == {
        "type": "conversation.status",
        "conversationId": conversation.public_id,
        "status": "resolved",
    }
    return conversation


async def test_the_visitor_hears_of_the_resolution_and_rates_it_once(agent) -> None:
    communicator, visitor = await ready(agent)
    conversation = await resolved_conversation(agent, communicator)
    rate = {"type": "csat", "conversationId": conversation.public_id, "score": 4, "comment": "ok"}
    await communicator.send_json_to(rate)
    ack = await communicator.receive_json_from(timeout=5)
    assert ack == {"type": "csat.ack", "conversationId": conversation.public_id}
    await communicator.send_json_to({**rate, "score": 1})  # a second rating changes nothing
    await communicator.receive_json_from(timeout=5)
    await sync_to_async(conversation.refresh_from_db)()
    assert (conversation.csat_score, conversation.csat_comment) == (4, "ok")
    assert conversation.resolved_at is not None
    events = await sync_to_async(lambda: list(WidgetEvent.objects.filter(event="csat")))()
    assert [(e.metadata or {}).get("score") for e in events] == [4]
    await communicator.disconnect()


@pytest.mark.parametrize("score", [0, 6, "5", 4.5, None, True])
async def test_a_bad_score_is_refused(agent, score) -> None:
    communicator, _ = await ready(agent)
    conversation = await resolved_conversation(agent, communicator)
    await communicator.send_json_to(
        {"type": "csat", "conversationId": conversation.public_id, "score": score}
    )
    frame = await communicator.receive_json_from(timeout=5)
    assert frame["type"] == "error" and frame["code"] == "invalid_request"
    await communicator.disconnect()


async def test_nobody_rates_someone_elses_or_an_open_conversation(agent) -> None:
    stranger, _ = await ready(agent)
    communicator, _ = await ready(agent)
    conversation = await resolved_conversation(agent, communicator)
    await stranger.send_json_to(
        {"type": "csat", "conversationId": conversation.public_id, "score": 1}
    )
    assert (await stranger.receive_json_from(timeout=5))["code"] == "not_found"
    await sync_to_async(conversation_status_set)(conversation=conversation, status="bot")
    await frames_until(communicator, lambda f: f["type"] == "conversation.status")
    await communicator.send_json_to(
        {"type": "csat", "conversationId": conversation.public_id, "score": 5}
    )
    assert (await communicator.receive_json_from(timeout=5))["code"] == "not_found"
    await stranger.disconnect()
    await communicator.disconnect()


def test_staff_resolve_from_the_admin(owner, agent) -> None:
    conversation = Conversation.objects.create(agent=agent, visitor_id="vis_aaaaaaaaaaaaaaaa")
    client = Client()
    client.force_login(owner)
    response = client.post(
        "/admin/conversations/conversation/",
        {"action": "mark_resolved", "_selected_action": [conversation.pk]},
    )
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == "resolved" and conversation.resolved_at is not None
    # As the inbox resolves: by a person, who is on record for it.
    assert conversation.resolved_by == "human" and conversation.assigned_to == owner
