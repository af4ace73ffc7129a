"""What conversations tell a workspace's webhooks (webhooks.events; docs/webhooks.md):
each event's `data`, built from rows the caller already holds."""

from __future__ import annotations

from typing import Any

from conversations.identity import customer_out
from conversations.models import Conversation, Message
from conversations.selectors import message_out
from core.times import iso_utc
from webhooks.events import webhook_event_emit

MESSAGE_ROLES = frozenset({Message.Role.CUSTOMER, Message.Role.AGENT, Message.Role.STAFF})


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    assignee = conversation.assigned_to
    return {
        "id": conversation.public_id,
        "agentId": conversation.agent.public_id,
        "status": conversation.status,
        "visitorId": conversation.visitor_id,
        "customer": customer_out(conversation.customer),
        "assignedTo": assignee.get_username() if assignee is not None else None,
        "handoffReason": conversation.handoff_reason or None,
        "createdAt": iso_utc(conversation.created_at),
    }


def conversation_event(conversation: Conversation, event_type: str, **extra: Any) -> None:
    """`conversation.*` and `csat.submitted`: the conversation as it is now, and `extra`."""
    webhook_event_emit(
        workspace_id=conversation.agent.workspace_id,
        event_type=event_type,
        data=lambda: {"conversation": conversation_data(conversation), **extra},
    )


def message_created_event(conversation: Conversation, message: Message) -> None:
    """A visitor's, the agent's or a person's message (never a note or a system line)."""
    if message.role not in MESSAGE_ROLES:
        return
    webhook_event_emit(
        workspace_id=conversation.agent.workspace_id,
        event_type="message.created",
        data=lambda: {
            "conversationId": conversation.public_id,
            "agentId": conversation.agent.public_id,
            "message": dict(message_out(message)),
        },
    )
