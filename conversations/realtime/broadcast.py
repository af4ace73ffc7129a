"""Fan-out of conversation events to connected websockets through the channel layer.

Called only after the rows they describe are committed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from conversations.inbox_selectors import (
    ConversationSummary,
    conversation_summary_fresh,
    staff_message_out,
)
from conversations.models import Conversation, Message
from conversations.realtime.groups import inbox_group, owner_group
from conversations.realtime.inbox_feed import inbox_feed_message
from conversations.realtime.layer_sync import group_send_sync
from conversations.selectors import message_out

logger = logging.getLogger(__name__)

# Streamed text is sent in pieces of at least this many characters, or after this long,
# so a fast model does not flood the channel layer with one event per token.
DELTA_FLUSH_CHARS = 20
DELTA_FLUSH_SECONDS = 0.05


_thread_state = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_state, "loop", None)
    if loop is None or loop.is_closed():
        loop = _thread_state.loop = asyncio.new_event_loop()
    return loop


Send = tuple[str, dict[str, Any]]  # a group and the event for it


def _send(group: str, event: dict[str, Any]) -> None:
    _send_all([(group, event)])


def _send_all(sends: list[Send]) -> None:
    """Each event to its group, in order (a sync caller: a Celery thread, a command)."""
    layer = get_channel_layer()
    if layer is None or not sends:
        return
    if isinstance(layer, InMemoryChannelLayer):
        # Its queues belong to the loop the consumers run on: send through that loop.
        for group, event in sends:
            async_to_sync(layer.group_send)(group, event)
        return
    # A Redis layer is reached without an event loop (conversations.realtime.layer_sync) ...
    if all(group_send_sync(layer, group, event) for group, event in sends):
        return
    # ... any other from any loop: each thread keeps one, and so its connections, rather
    # than async_to_sync's new loop, thread and connection per event.
    _thread_loop().run_until_complete(_group_send_all(layer, sends))


async def _group_send_all(layer: Any, sends: list[Send]) -> None:
    if len(sends) == 1:
        await layer.group_send(*sends[0])
        return
    results = await asyncio.gather(
        *(layer.group_send(group, event) for group, event in sends), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


def broadcast_message(
    message: Message, *, inbox_summary: ConversationSummary | None = None
) -> None:
    """To the visitor's widgets (never an internal note) and to the workspace's inbox, at
    once. `inbox_summary`, when the caller built it from rows it just wrote, saves reading
    the conversation again."""
    conversation = message.conversation
    sends: list[Send] = []
    if message.role != Message.Role.NOTE:
        sends.append(
            (
                owner_group(conversation.agent.public_id, conversation.owner_key),
                {"type": "message.created", "message": dict(message_out(message))},
            )
        )
    inbox = _inbox_message_send(message, summary=inbox_summary)
    if inbox is not None:
        sends.append(inbox)
    _send_all(sends)


async def abroadcast_visitor_message(message: Message, *, sender: str) -> None:
    """A visitor's just-stored message, from the event loop of the socket it came from
    (channel `sender`, which shows it itself): to their other tabs (awaited, so it precedes
    the answer queued next), then to the inbox without a query, coalesced under load
    (conversations.realtime.inbox_feed)."""
    conversation = message.conversation
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(
            owner_group(conversation.agent.public_id, conversation.owner_key),
            {"type": "message.created", "message": dict(message_out(message)), "sender": sender},
        )
    await inbox_feed_message(message)


def broadcast_delta(*, agent_public_id: str, owner_key: str, message_id: str, delta: str) -> None:
    """A piece of an answer still being written; the final `message` has the same id."""
    _send(
        owner_group(agent_public_id, owner_key),
        {"type": "message.delta", "id": message_id, "delta": delta},
    )


class DeltaStream:
    """Coalesces an answer's streamed pieces into `message.delta` events.

    The first piece goes out at once (time to first token is what visitors feel); later
    ones are sent when DELTA_FLUSH_CHARS have gathered or DELTA_FLUSH_SECONDS have passed.
    Call `flush()` before the final message. A failed send stops the stream quietly: the
    final message carries the whole text anyway.
    """

    def __init__(self, *, agent_public_id: str, owner_key: str, message_id: str) -> None:
        self.target = {
            "agent_public_id": agent_public_id,
            "owner_key": owner_key,
            "message_id": message_id,
        }
        self.pending = ""
        self.sent_at: float | None = None
        self.broken = False

    def push(self, delta: str) -> None:
        self.pending += delta
        due = self.sent_at is None or time.monotonic() - self.sent_at >= DELTA_FLUSH_SECONDS
        if due or len(self.pending) >= DELTA_FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        if not self.pending or self.broken:
            return
        piece, self.pending = self.pending, ""
        self.sent_at = time.monotonic()
        try:
            broadcast_delta(**self.target, delta=piece)
        except Exception:
            self.broken = True
            logger.exception("streaming %s failed; the final message follows", self.target)


def broadcast_greeting(*, agent_public_id: str, owner_key: str, text: str) -> None:
    """A personalized greeting for the widgets of this owner (conversations.greetings)."""
    _send(owner_group(agent_public_id, owner_key), {"type": "greeting.ready", "text": text})


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
    broadcast_inbox_conversation(conversation)


# --- The staff inbox (conversations.sockets.inbox_consumer): one group per workspace ---


def broadcast_inbox_message(message: Message) -> None:
    inbox = _inbox_message_send(message)
    if inbox is not None:
        _send_all([inbox])


def _inbox_message_send(
    message: Message, *, summary: ConversationSummary | None = None
) -> Send | None:
    if summary is None:
        summary = conversation_summary_fresh(message.conversation_id, last=message)
    if summary is None:
        return None
    return (
        inbox_group(summary["workspaceId"]),
        {
            "type": "inbox.message",
            "conversation": dict(summary),
            "message": dict(staff_message_out(message)),
        },
    )


def broadcast_inbox_conversation(conversation: Conversation) -> None:
    """A conversation's status, assignment or customer changed."""
    summary = conversation_summary_fresh(conversation.pk)
    if summary is not None:
        _send(
            inbox_group(summary["workspaceId"]),
            {"type": "inbox.conversation", "conversation": dict(summary)},
        )


def broadcast_inbox_typing(
    *, workspace_id: int, conversation_id: str, role: str, state: bool
) -> None:
    _send(
        inbox_group(workspace_id),
        {"type": "inbox.typing", "conversationId": conversation_id, "role": role, "state": state},
    )
