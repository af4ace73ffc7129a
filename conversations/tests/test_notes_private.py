"""Internal notes are for staff: no widget path and no model ever sees one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from agents.contracts import HistoryItem, Reply
from agents.models import Agent
from conftest import SITE_ORIGIN
from conversations import replies
from conversations.models import Conversation, Message
from conversations.staff import staff_note, staff_reply
from conversations.tests.test_consumer import frames_until, ready

SECRET = "internal: customer is a known fraudster"


def start(client: Client, agent: Agent, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v2/widget/session",
        data=json.dumps({"agentId": agent.public_id, **body}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )
    assert response.status_code == 200
    return dict(response.json())


def noted_conversation(agent: Agent, visitor_id: str, user: Any) -> Conversation:
    conversation = Conversation.objects.create(agent=agent, visitor_id=visitor_id)
    Message.objects.create(conversation=conversation, role="customer", text="hello", client_id="c")
    staff_note(user=user, conversation_id=conversation.public_id, text=SECRET)
    staff_reply(user=user, conversation_id=conversation.public_id, text="Hi, how can I help?")
    return conversation


@pytest.mark.django_db
def test_the_session_and_history_endpoints_leave_notes_out(client: Client, agent, owner) -> None:
    first = start(client, agent)
    conversation = noted_conversation(agent, first["visitorId"], owner)
    session = start(
        client, agent, visitorId=first["visitorId"], visitorSecret=first["visitorSecret"]
    )
    shown = session["conversation"]["messages"]
    assert [m["role"] for m in shown] == ["customer", "system", "staff"]
    assert SECRET not in json.dumps(session)
    history = client.get(
        f"/api/v2/widget/conversations/{conversation.public_id}/messages",
        HTTP_ORIGIN=SITE_ORIGIN,
        HTTP_AUTHORIZATION=f"Bearer {session['token']}",
    )
    assert history.status_code == 200
    assert SECRET not in history.content.decode()
    assert len(history.json()["messages"]) == 3


@pytest.mark.django_db
def test_a_model_never_reads_a_note(agent, owner, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[HistoryItem]] = []

    class Recording:
        shows_typing = False

        def respond(self, *, history: list[HistoryItem], **kwargs: Any) -> Reply:
            seen.append(history)
            return Reply(text="ok", answered=True)

    monkeypatch.setattr(replies, "responder_for", lambda agent: Recording())
    conversation = noted_conversation(agent, "vis_model000000001", owner)
    Conversation.objects.filter(pk=conversation.pk).update(status="bot")
    question = Message.objects.create(conversation=conversation, role="customer", text="and?")
    replies.reply_generate(message_id=question.pk)
    assert [item.role for item in seen[0]] == ["customer", "system", "staff"]
    assert all(SECRET not in item.text for item in seen[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
async def test_live_frames_and_the_sync_replay_leave_notes_out(agent, owner) -> None:
    visitor, visitor_id = await ready(agent)
    await visitor.send_json_to({"type": "message.send", "clientId": "c-1", "text": "human"})
    await frames_until(visitor, lambda f: f.get("status") == "waiting")
    conversation = await sync_to_async(Conversation.objects.get)(agent=agent)
    await sync_to_async(staff_note)(user=owner, conversation_id=conversation.public_id, text=SECRET)
    await sync_to_async(staff_reply)(
        user=owner, conversation_id=conversation.public_id, text="Hello from a person"
    )
    live = await frames_until(visitor, lambda f: f.get("role") == "staff", limit=30)
    assert SECRET not in json.dumps(live)
    await visitor.send_json_to({"type": "sync"})
    replay = await frames_until(visitor, lambda f: f.get("text") == "Hello from a person", limit=30)
    assert [f["role"] for f in replay if f["type"] == "message"] == [
        "customer",
        "system",
        "system",
        "staff",
    ]
    assert SECRET not in json.dumps(replay)
    await visitor.disconnect()
