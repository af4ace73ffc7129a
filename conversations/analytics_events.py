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
from security.domains import parse_origin

logger = logging.getLogger(__name__)


def _source(conversation: Conversation) -> EventSource:
    agent = conversation.agent
    origin = parse_origin(conversation.origin)
    return EventSource(
        workspace_id=agent.workspace_id,
        agent_id=agent.public_id,
        domain=origin.host if origin else "",
        session_id=conversation.visitor_id,
    )


def _record(conversation: Conversation, event: EventIn) -> None:
    """Analytics never fail the pipeline: a lost event is logged, the chat goes on (the
    savepoint keeps a caller's open transaction usable)."""
    try:
        with transaction.atomic():
            events_record(source=_source(conversation), events=[event])
    except Exception:
        logger.exception("analytics event %s of %s not recorded", event.name, conversation)


def conversation_started_record(conversation: Conversation) -> None:
    """A visitor's first message opened this conversation."""
    _record(
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
    _record(
        question.conversation,
        EventIn(
            name="message_answered",
            metadata=metadata,
            event_id=f"srv:answered:{question.public_id}",
            occurred_at=answer.created_at,
        ),
    )
