"""The message pipeline records its own events: a conversation started, a message answered."""

from __future__ import annotations

from typing import Any

import pytest

from analytics.models import WidgetEvent
from conftest import SITE_ORIGIN
from conversations.models import Message
from conversations.parties import Party
from conversations.replies import reply_generate
from conversations.services import message_receive
from conversations.staff import conversation_resolve, staff_reply
from customers.sessions import session_token_issue, session_token_verify
from demo.experiments import demo_experiment_seed
from experiments.assignment import visitor_assignment


def party(agent: Any, visitor: str) -> Party:
    token = session_token_issue(agent_id=agent.public_id, visitor_id=visitor, origin=SITE_ORIGIN)
    return Party.of(session_token_verify(token.token))


def ask(agent: Any, visitor: str, client_id: str, text: str) -> Message:
    return message_receive(
        agent=agent, party=party(agent, visitor), client_id=client_id, text=text, origin=SITE_ORIGIN
    ).message


@pytest.mark.django_db
def test_a_conversation_start_is_recorded_once(agent: Any) -> None:
    first = ask(agent, "vis_a", "c-1", "Do you ship to Canada?")
    ask(agent, "vis_a", "c-2", "And how long does it take?")
    ask(agent, "vis_a", "c-1", "Do you ship to Canada?")  # a resend
    started = WidgetEvent.objects.get(event="conversation_started")
    conversation = first.conversation
    assert started.event_id == f"srv:started:{conversation.public_id}"
    assert started.metadata == {"conversationId": conversation.public_id}
    assert (started.agent_id, started.domain, started.session_id) == (
        agent.public_id,
        "shop.example.com",
        "vis_a",
    )
    assert started.occurred_at == conversation.created_at


@pytest.mark.django_db
def test_an_answer_records_its_first_response_time(agent: Any) -> None:
    question = ask(agent, "vis_b", "c-1", "How long does express shipping take?")
    answer = reply_generate(message_id=question.pk)  # what the Celery task runs after commit
    assert answer is not None
    answered = WidgetEvent.objects.get(event="message_answered")
    waited = round((answer.created_at - question.created_at).total_seconds() * 1000)
    assert answered.metadata is not None
    assert answered.metadata["ms"] == waited
    assert answered.metadata["messageId"] == question.public_id
    assert answered.event_id == f"srv:answered:{question.public_id}"
    assert reply_generate(message_id=question.pk) is None  # no second answer, no second event
    assert WidgetEvent.objects.filter(event="message_answered").count() == 1


@pytest.mark.django_db
def test_a_persons_answer_records_the_first_response_time_of_the_waiting_question(
    agent: Any, owner: Any
) -> None:
    first = ask(agent, "vis_c", "c-1", "Can I talk to someone?")
    ask(agent, "vis_c", "c-2", "Hello?")
    conversation_id = first.conversation.public_id
    reply = staff_reply(user=owner, conversation_id=conversation_id, text="Hi, I'm Sam.")
    staff_reply(user=owner, conversation_id=conversation_id, text="How can I help?")

    answered = WidgetEvent.objects.get(event="message_answered")  # once: one wait ended
    assert answered.metadata is not None
    assert answered.metadata["role"] == "staff"
    assert answered.metadata["messageId"] == first.public_id  # timed from the earliest
    assert answered.metadata["ms"] == round(
        (reply.created_at - first.created_at).total_seconds() * 1000
    )
    later = ask(agent, "vis_c", "c-3", "Where is my parcel?")
    staff_reply(user=owner, conversation_id=conversation_id, text="Let me check.")
    assert WidgetEvent.objects.filter(event="message_answered").count() == 2
    assert (
        WidgetEvent.objects.filter(event="message_answered")
        .filter(metadata__messageId=later.public_id)
        .exists()
    )


@pytest.mark.django_db
def test_server_events_carry_the_visitors_variant(agent: Any, owner: Any) -> None:
    demo_experiment_seed(agent)
    label = visitor_assignment(agent_public_id=agent.public_id, visitor_id="vis_d").label
    assert label.startswith("greeting:")
    question = ask(agent, "vis_d", "c-1", "How long does express shipping take?")
    reply_generate(message_id=question.pk)
    conversation_resolve(user=owner, conversation_id=question.conversation.public_id)

    events = WidgetEvent.objects.filter(session_id="vis_d")
    assert set(events.values_list("event", flat=True)) >= {
        "conversation_started",
        "message_answered",
        "resolved",
    }
    assert set(events.values_list("variant", flat=True)) == {label}
