"""A conversation's life after its messages: status changes and the visitor's rating."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.models import Agent
from analytics.services import EventIn, events_record
from conversations.analytics_events import event_source, server_event_record
from conversations.models import Conversation, Message
from conversations.parties import Party
from conversations.realtime import broadcast
from conversations.webhook_events import conversation_event
from core.errors import InvalidRequest, NotFound
from customers.models import Customer, CustomerMemory
from customers.profiles import memory_remember

logger = logging.getLogger(__name__)

MAX_CSAT_COMMENT = 500


@transaction.atomic
def conversation_status_set(
    *, conversation: Conversation, status: str, resolved_by: str | None = None
) -> Conversation:
    """Move a conversation to `status` and tell the visitor's open widgets (and the inbox).

    Resolving records who resolved it: `resolved_by` when given, else "human" when a person
    held or wrote in the conversation and "bot" when the agent alone handled it.
    """
    if status not in Conversation.Status.values:
        raise InvalidRequest(f"Unknown status {status!r}.")
    # From the row: the admin's form has already written the new status on the object.
    before = Conversation.objects.filter(pk=conversation.pk).values_list("status", flat=True)
    resolving = status == Conversation.Status.RESOLVED and before.first() != status
    conversation.status = status
    conversation.resolved_at = timezone.now() if status == Conversation.Status.RESOLVED else None
    if resolving:
        conversation.resolved_by = resolved_by or _resolver(conversation)
    elif status != Conversation.Status.RESOLVED:
        conversation.resolved_by = ""
    conversation.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
    if status == Conversation.Status.RESOLVED:
        conversation_remember(conversation)
    if resolving:
        conversation_event_record(
            conversation,
            "resolved",
            {"by": conversation.resolved_by},
            at=conversation.resolved_at or timezone.now(),
        )
        conversation_event(
            conversation, "conversation.resolved", resolvedBy=conversation.resolved_by
        )
    transaction.on_commit(lambda: broadcast.broadcast_status(conversation), robust=True)
    return conversation


def _resolver(conversation: Conversation) -> str:
    if conversation.assigned_to_id is not None:
        return "human"
    return "human" if conversation.messages.filter(role=Message.Role.STAFF).exists() else "bot"


def conversation_event_record(
    conversation: Conversation, name: str, metadata: dict[str, Any], *, at: datetime
) -> None:
    """An analytics event about a conversation (handed_off, resolved), recorded once per
    conversation and moment; a failure is logged and never undoes the change itself."""
    server_event_record(
        conversation,
        EventIn(
            name=name,
            metadata={**metadata, "conversationId": conversation.public_id},
            event_id=f"srv:{name}:{conversation.public_id}:{at.timestamp():.6f}",
            occurred_at=at,
        ),
    )


def conversation_remember(conversation: Conversation) -> None:
    """A resolved conversation becomes one fact in its customer's memory: what they asked
    and who resolved it (the stored, already masked, text)."""
    if conversation.customer_id is None:
        return
    messages = conversation.messages.order_by("id")
    first = messages.filter(role=Message.Role.CUSTOMER).first()
    if first is None:
        return
    by = "a person" if messages.filter(role=Message.Role.STAFF).exists() else "the agent"
    asked = first.text if len(first.text) <= 200 else first.text[:199] + "…"
    memory_remember(
        customer=Customer.objects.get(pk=conversation.customer_id),
        key=f"conversation {conversation.public_id}",
        value=f"{timezone.localdate(first.created_at).isoformat()}: asked “{asked}”; "
        f"resolved by {by}.",
        source=CustomerMemory.Source.CONVERSATION,
        source_ref=conversation.public_id,
    )


def conversation_csat_record(
    *, agent: Agent, party: Party, conversation_id: Any, score: Any, comment: Any = ""
) -> Conversation:
    """Store the visitor's 1-5 rating of a resolved conversation of theirs (first one wins)."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidRequest("score must be a whole number from 1 to 5.")
    comment = comment if isinstance(comment, str) else ""
    if len(comment) > MAX_CSAT_COMMENT:
        raise InvalidRequest(f"comment must be at most {MAX_CSAT_COMMENT} characters.")
    conversation = Conversation.objects.filter(
        public_id=str(conversation_id)[:40], agent=agent, owner_key=party.owner_key
    ).first()
    if conversation is None or conversation.status != Conversation.Status.RESOLVED:
        raise NotFound("No resolved conversation of yours has this id.")
    if conversation.csat_score is None:
        conversation.csat_score, conversation.csat_comment = score, comment.strip()
        conversation.save(update_fields=["csat_score", "csat_comment", "updated_at"])
        events_record(
            source=event_source(conversation, visitor_id=party.visitor_id),
            events=[("csat", {"score": score, "conversationId": conversation.public_id})],
        )
        conversation_event(
            conversation, "csat.submitted", score=score, comment=conversation.csat_comment
        )
    return conversation
