"""Fan-out of conversation events to connected websockets through the channel layer.

Called only after the rows they describe are committed.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from conversations.models import Conversation, Message
from conversations.selectors import message_out


def owner_group(agent_public_id: str, owner_key: str) -> str:
    """Every tab of one visitor (every device of a verified customer) listens here."""
    return f"widget.{agent_public_id}.{owner_key}"


def _send(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, event)


def broadcast_message(message: Message) -> None:
    conversation = message.conversation
    _send(
        owner_group(conversation.agent.public_id, conversation.owner_key),
        {"type": "message.created", "message": dict(message_out(message))},
    )


def broadcast_typing(*, agent_public_id: str, owner_key: str, role: str, state: bool) -> None:
    _send(
        owner_group(agent_public_id, owner_key),
        {"type": "typing.changed", "role": role, "state": state},
    )


def broadcast_status(conversation: Conversation) -> None:
    _send(
        owner_group(conversation.agent.public_id, conversation.owner_key),
        {
            "type": "conversation.status",
            "conversationId": conversation.public_id,
            "status": conversation.status,
        },
    )
