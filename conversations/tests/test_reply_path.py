"""The answer task (conversations.replies.reply_generate): what it reads, stores and sends.

The visitor gets one answer per question with its citation; the model sees the window of
the conversation before the question; staff see the answer in the inbox with the
conversation as it stands, even when a person took it while the agent wrote; and the
answer from a worker thread reaches the visitor's websocket.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections

from agents.contracts import HistoryItem, Reply
from agents.models import Agent
from analytics.models import WidgetEvent
from conversations import replies
from conversations.inbox_selectors import conversation_summary_fresh
from conversations.models import Conversation, Message
from conversations.realtime import broadcast
from conversations.realtime.groups import inbox_group
from conversations.realtime.layer_sync import group_send_sync
from conversations.replies import HISTORY_WINDOW, reply_generate, reply_public_id
from conversations.tasks import reply_to_message
from conversations.tests.test_consumer import frames_until, ready
from security.ids import new_visitor_id


def visitor_message(agent: Agent, text: str, conversation: Conversation | None = None) -> Message:
    conversation = conversation or Conversation.objects.create(
        agent=agent, visitor_id=new_visitor_id(), origin="https://shop.example.com"
    )
    return Message.objects.create(conversation=conversation, role="customer", text=text)


class Recording:
    """A responder that remembers what it was shown and may act while it "writes"."""

    shows_typing = False

    def __init__(self, meanwhile: Any = None) -> None:
        self.history: list[HistoryItem] = []
        self.meanwhile = meanwhile

    def respond(self, *, history: list[HistoryItem], **kwargs: Any) -> Reply:
        self.history = history
        if self.meanwhile is not None:
            self.meanwhile()
        return Reply(text="Here is what I know.", answered=True)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What the answer task hands the channel layer, group by group."""
    recorded: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(broadcast, "_send_all", recorded.extend)
    return recorded


@pytest.mark.django_db
class TestTheAnswer:
    def test_it_cites_its_article_and_is_stored_once(
        self, agent: Agent, sent: list[Any], django_capture_on_commit_callbacks: Any
    ) -> None:
        question = visitor_message(agent, "How long does express shipping take?")
        with django_capture_on_commit_callbacks(execute=True):
            reply_to_message(question.pk)
            reply_to_message(question.pk)  # a redelivered task
        answers = Message.objects.filter(conversation=question.conversation, role="agent")
        assert answers.count() == 1
        answer = answers.get()
        assert answer.public_id == reply_public_id(question)
        assert answer.metadata["inReplyTo"] == question.public_id
        assert answer.metadata["answered"] is True
        assert answer.metadata["sources"][0]["title"] == "Shipping times"
        assert "Source: Shipping times" in answer.text
        widget = [event for group, event in sent if group.startswith("widget.")]
        assert [event["message"]["id"] for event in widget] == [answer.public_id]
        assert WidgetEvent.objects.filter(
            event="message_answered", event_id=f"srv:answered:{question.public_id}"
        ).exists()

    def test_the_model_sees_the_window_before_the_question_without_notes(
        self, agent: Agent, monkeypatch: pytest.MonkeyPatch, sent: list[Any]
    ) -> None:
        conversation = visitor_message(agent, "first").conversation
        for number in range(HISTORY_WINDOW + 4):
            role = "customer" if number % 2 else "agent"
            Message.objects.create(conversation=conversation, role=role, text=f"line {number}")
        Message.objects.create(conversation=conversation, role="note", text="staff only")
        question = visitor_message(agent, "and now?", conversation)
        Message.objects.create(conversation=conversation, role="customer", text="after")
        responder = Recording()
        monkeypatch.setattr(replies, "responder_for", lambda agent: responder)
        reply_generate(message_id=question.pk)
        texts = [item.text for item in responder.history]
        assert len(texts) == HISTORY_WINDOW
        assert texts[-1] == f"line {HISTORY_WINDOW + 3}"  # oldest first, up to the question
        assert "staff only" not in texts and "after" not in texts

    def test_a_conversation_a_person_holds_gets_no_bot_answer(
        self, agent: Agent, sent: list[Any]
    ) -> None:
        question = visitor_message(agent, "How long does express shipping take?")
        Conversation.objects.filter(pk=question.conversation_id).update(status="waiting")
        assert reply_generate(message_id=question.pk) is None
        assert sent == []


@pytest.mark.django_db
class TestTheInboxSeesTheConversationAsItStands:
    def inbox_event(self, sent: list[tuple[str, dict[str, Any]]], agent: Agent) -> dict[str, Any]:
        (event,) = [e for group, e in sent if group == inbox_group(agent.workspace_id)]
        return event

    def test_the_answers_summary_is_the_conversation_as_stored(
        self, agent: Agent, sent: list[Any], django_capture_on_commit_callbacks: Any
    ) -> None:
        question = visitor_message(agent, "do you accept paypal")
        with django_capture_on_commit_callbacks(execute=True):
            answer = reply_generate(message_id=question.pk)
        assert answer is not None
        event = self.inbox_event(sent, agent)
        assert event["message"]["id"] == answer.public_id
        assert event["conversation"] == conversation_summary_fresh(
            question.conversation_id, last=answer
        )

    def test_a_person_taking_it_while_the_agent_writes_is_what_staff_see(
        self,
        agent: Agent,
        owner: Any,
        monkeypatch: pytest.MonkeyPatch,
        sent: list[Any],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        question = visitor_message(agent, "do you accept paypal")

        def take_over() -> None:
            Conversation.objects.filter(pk=question.conversation_id).update(
                status="assigned", assigned_to=owner
            )

        monkeypatch.setattr(replies, "responder_for", lambda agent: Recording(take_over))
        with django_capture_on_commit_callbacks(execute=True):
            answer = reply_generate(message_id=question.pk)
        assert answer is not None
        summary = self.inbox_event(sent, agent)["conversation"]
        assert summary["status"] == "assigned"
        assert summary["assignedTo"]["id"] == owner.pk
        conversation = Conversation.objects.get(pk=question.conversation_id)
        assert conversation.last_message_at == answer.created_at


def answer_on_a_worker_thread(message_id: int) -> None:
    """As a Celery thread runs it: its own thread, its own event loop for the channel layer,
    its connection handed back at the end."""
    try:
        reply_generate(message_id=message_id)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
async def test_an_answer_written_on_a_worker_thread_reaches_the_widget(agent: Agent) -> None:
    communicator, visitor = await ready(agent)
    conversation = await Conversation.objects.acreate(
        agent=agent, visitor_id=visitor, owner_key=f"v-{visitor}"
    )
    question = await Message.objects.acreate(
        conversation=conversation, role="customer", text="Which payment methods do you accept?"
    )
    layer = get_channel_layer()
    staff = await layer.new_channel()
    await layer.group_add(inbox_group(agent.workspace_id), staff)
    await sync_to_async(answer_on_a_worker_thread, thread_sensitive=False)(question.pk)
    frames = await frames_until(communicator, lambda f: f["type"] == "message")
    answer = frames[-1]
    assert answer["role"] == "agent"
    assert answer["id"] == reply_public_id(question)
    assert "PayPal" in answer["text"]
    inbox = await layer.receive(staff)
    assert inbox["type"] == "inbox.message"
    assert inbox["message"]["id"] == answer["id"]
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_sync_group_send_delivers_as_the_layers_own(settings: Any) -> None:
    layer = get_channel_layer()
    if not settings.REDIS_URL:
        assert not group_send_sync(layer, "widget.x.y", {"type": "t"})  # in-memory: not Redis
        return
    listening, sending = await layer.new_channel(), await layer.new_channel()
    for channel in (listening, sending):
        await layer.group_add("widget.agt_x.v-1", channel)
    event = {"type": "message.created", "message": {"id": "msg_1"}, "sender": sending}
    await sync_to_async(group_send_sync, thread_sensitive=False)(layer, "widget.agt_x.v-1", event)
    assert (await layer.receive(listening))["message"] == {"id": "msg_1"}
    with pytest.raises(TimeoutError):  # never back to the channel that sent it
        await asyncio.wait_for(layer.receive(sending), 0.5)
