"""The analytics events the message pipeline records about itself (docs/analytics.md).

Each event's id is derived from what caused it ("srv:…", a form no widget id can take), so
a retried task or a replayed message records it once. Analytics stores them by public id;
it never imports this app.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from analytics.services import EventIn, EventSource, events_record
from conversations.models import Conversation, Message
from experiments.assignment import visitor_assignment
from security.domains import parse_origin

logger = logging.getLogger(__name__)


def _variant(agent_public_id: str, visitor_id: str) -> str:
    """The visitor's experiment variants as the widget's own events carry them (the same
    sticky assignment), so server events split by variant too; '' when none or failing."""
    try:
        return visitor_assignment(agent_public_id=agent_public_id, visitor_id=visitor_id).label
    except Exception:
        logger.exception("variant of %s not known; the event is recorded without", visitor_id)
        return ""


def event_source(conversation: Conversation, *, visitor_id: str = "") -> EventSource:
    """Where a server event about this conversation belongs: its agent, the site it runs
    on, the visitor (`visitor_id`, else the conversation's first) and their variant."""
    agent = conversation.agent
    origin = parse_origin(conversation.origin)
    visitor = visitor_id or conversation.visitor_id
    return EventSource(
        workspace_id=agent.workspace_id,
        agent_id=agent.public_id,
        domain=origin.host if origin else "",
        session_id=visitor,
        variant=_variant(agent.public_id, visitor) if visitor else "",
    )


def server_event_record(
    conversation: Conversation, event: EventIn, *, visitor_id: str = ""
) -> None:
    """Analytics never fail the pipeline: a lost event is logged, the chat goes on (the
    savepoint keeps a caller's open transaction usable)."""
    try:
        with transaction.atomic():
            events_record(source=event_source(conversation, visitor_id=visitor_id), events=[event])
    except Exception:
        logger.exception("analytics event %s of %s not recorded", event.name, conversation)


def conversation_started_record(conversation: Conversation) -> None:
    """A visitor's first message opened this conversation."""
    server_event_record(
        conversation,
        EventIn(
            name="conversation_started",
            metadata={"conversationId": conversation.public_id},
            event_id=f"srv:started:{conversation.public_id}",
            occurred_at=conversation.created_at,
        ),
    )


def message_answered_record(*, question: Message, answer: Message) -> None:
    """The agent answered a visitor's message; `ms` is the wait from the question being
    stored to the answer being stored (the first-response time of that message)."""
    waited_ms = max(0, round((answer.created_at - question.created_at).total_seconds() * 1000))
    metadata: dict[str, Any] = {
        "ms": waited_ms,
        "conversationId": question.conversation.public_id,
        "messageId": question.public_id,
        "role": answer.role,
    }
    server_event_record(
        question.conversation,
        EventIn(
            name="message_answered",
            metadata=metadata,
            event_id=f"srv:answered:{question.public_id}",
            occurred_at=answer.created_at,
        ),
    )


def staff_answered_record(answer: Message) -> None:
    """A person answered: the first-response time runs from the earliest visitor message
    since the last answer (the agent's or a person's). Nothing to record without one."""
    messages = answer.conversation.messages.filter(id__lt=answer.pk)
    answered = (
        messages.filter(role__in=[Message.Role.AGENT, Message.Role.STAFF])
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    waiting = messages.filter(role=Message.Role.CUSTOMER)
    if answered is not None:
        waiting = waiting.filter(id__gt=answered)
    question = waiting.order_by("id").first()
    if question is not None:
        message_answered_record(question=question, answer=answer)
