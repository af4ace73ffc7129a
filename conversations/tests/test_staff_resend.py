"""A person's reply or note sent twice with the same client id (a resend after a dropped
connection, a retried API call) is stored and delivered once."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from conversations.models import Conversation, Message
from conversations.staff import staff_note, staff_reply
from conversations.tests.test_inbox import command, inbox_ready
from core.errors import InvalidRequest

pytestmark = pytest.mark.django_db(transaction=True)


def _conversation(agent: Any) -> Conversation:
    conversation = Conversation.objects.create(
        agent=agent, visitor_id="vis_resend00000001", status="waiting"
    )
    Message.objects.create(conversation=conversation, role="customer", text="Anyone there?")
    return conversation


def test_the_same_client_id_stores_one_reply_and_one_note(agent: Any, owner: Any) -> None:
    conversation = _conversation(agent)
    first = staff_reply(
        user=owner, conversation_id=conversation.public_id, text="Hi!", client_id="r-1"
    )
    again = staff_reply(
        user=owner, conversation_id=conversation.public_id, text="Hi!", client_id="r-1"
    )
    note = staff_note(user=owner, conversation_id=conversation.public_id, text="VIP", client_id="n")
    assert again.pk == first.pk
    assert staff_note(
        user=owner, conversation_id=conversation.public_id, text="VIP", client_id="n"
    ).pk == (note.pk)
    assert conversation.messages.filter(role="staff").count() == 1
    assert conversation.messages.filter(role="note").count() == 1
    # Without an id every send is a new message, as before.
    staff_reply(user=owner, conversation_id=conversation.public_id, text="Still here.")
    staff_reply(user=owner, conversation_id=conversation.public_id, text="Still here.")
    assert conversation.messages.filter(role="staff").count() == 3


def test_a_staff_id_never_matches_a_visitors_message(agent: Any, owner: Any) -> None:
    conversation = _conversation(agent)
    Message.objects.create(
        conversation=conversation, role="customer", text="Hello", client_id="same-id"
    )
    reply = staff_reply(
        user=owner, conversation_id=conversation.public_id, text="Hi", client_id="same-id"
    )
    assert reply.role == "staff" and reply.text == "Hi"


@pytest.mark.parametrize("client_id", ["", "x" * 57, "has space", 42, "<b>"])
def test_a_malformed_client_id_is_refused_and_nothing_stored(
    agent: Any, owner: Any, client_id: Any
) -> None:
    conversation = _conversation(agent)
    with pytest.raises(InvalidRequest, match="clientId"):
        staff_reply(
            user=owner, conversation_id=conversation.public_id, text="Hi", client_id=client_id
        )
    assert not conversation.messages.filter(role="staff").exists()


def test_the_api_answers_a_retry_with_200_and_the_stored_message(agent: Any, owner: Any) -> None:
    conversation = _conversation(agent)
    client = APIClient()
    client.force_authenticate(owner)
    url = f"/api/v2/conversations/{conversation.public_id}/messages"
    body = {"text": "On it.", "clientId": "api-7"}
    created = client.post(url, body, format="json")
    retried = client.post(url, body, format="json")
    assert (created.status_code, retried.status_code) == (201, 200)
    assert created.json()["id"] == retried.json()["id"]
    bad = client.post(url, {"text": "On it.", "clientId": "no good"}, format="json")
    assert bad.status_code == 400
    assert conversation.messages.filter(role="staff").count() == 1


async def test_the_inbox_resend_gets_the_same_message(agent: Any, owner: Any) -> None:
    conversation = await sync_to_async(_conversation)(agent)
    communicator, _ = await inbox_ready(owner)
    frame = {"conversationId": conversation.public_id, "text": "Hello!", "clientId": "ib-1"}
    first = await command(communicator, type="reply", **frame)
    again = await command(communicator, type="reply", **frame)
    assert first["type"] == again["type"] == "done"
    assert first["message"]["id"] == again["message"]["id"]
    count = await sync_to_async(conversation.messages.filter(role="staff").count)()
    assert count == 1
    await communicator.disconnect()
