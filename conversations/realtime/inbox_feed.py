"""The staff inbox's feed of visitor messages from a web process: no query, coalesced.

A visitor's stored message reaches every inbox of its workspace with the conversation's
summary built from the rows the store just read and wrote (conversations.services), so
it costs no query. Sends are throttled per workspace and event loop: a workspace quiet
for INBOX_BATCH_SECONDS is told at once; what arrives within the window after a send is
gathered, each conversation once with its latest summary and its new messages in order,
and sent as one `inbox.batch` event when the window ends. At a hundred messages a second
that is a few channel-layer sends a second instead of a hundred, for Redis, the web
process and the staff's browsers alike. The inbox consumer unpacks a batch into the same
`message` frames as ever (docs/inbox.md); the inbox page orders what it shows by time,
since a batched question may arrive after its answer.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TypedDict

from channels.layers import get_channel_layer

from conversations.inbox_selectors import (
    ConversationSummary,
    StaffMessageOut,
    conversation_summary,
    staff_message_out,
)
from conversations.models import Message
from conversations.realtime.groups import inbox_group

logger = logging.getLogger(__name__)

INBOX_BATCH_SECONDS = 0.25


class InboxUpdate(TypedDict):
    conversation: ConversationSummary
    messages: list[StaffMessageOut]


class _Workspaces:
    """One event loop's inbox windows: workspace id -> conversation public id -> update."""

    def __init__(self) -> None:
        self.open: set[int] = set()  # workspaces that had a send less than a window ago
        self.pending: dict[int, dict[str, InboxUpdate]] = {}


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Workspaces] = (
    weakref.WeakKeyDictionary()
)
_sending: set[asyncio.Task[None]] = set()  # strong references while they run


async def inbox_feed_message(message: Message) -> None:
    """Show a visitor's just-stored message in its workspace's inboxes. Its conversation
    must be loaded with agent, customer and assignee, as `message_store` leaves it.

    A workspace quiet for a window is told at once (awaited: the inbox hears the question
    before anything queued after it, such as the answer); news arriving within the window
    after that is coalesced and sent at its end.
    """
    summary = conversation_summary(message.conversation, last=message)
    update: InboxUpdate = {"conversation": summary, "messages": [staff_message_out(message)]}
    workspace_id = summary["workspaceId"]
    loop = asyncio.get_running_loop()
    windows = _loops.get(loop)
    if windows is None:
        windows = _loops[loop] = _Workspaces()
    if workspace_id not in windows.open:
        windows.open.add(workspace_id)
        loop.call_later(INBOX_BATCH_SECONDS, _window_end, loop, workspace_id)
        await _send(workspace_id, [update])
        return
    of_workspace = windows.pending.setdefault(workspace_id, {})
    gathered = of_workspace.get(summary["id"])
    if gathered is None:
        of_workspace[summary["id"]] = update
    else:
        gathered["conversation"] = summary  # the latest wins
        gathered["messages"].extend(update["messages"])


def _window_end(loop: asyncio.AbstractEventLoop, workspace_id: int) -> None:
    windows = _loops.get(loop)
    if windows is None:
        return
    updates = windows.pending.pop(workspace_id, None)
    if not updates:
        windows.open.discard(workspace_id)  # quiet: the next message goes out at once
        return
    loop.call_later(INBOX_BATCH_SECONDS, _window_end, loop, workspace_id)
    task = loop.create_task(_send(workspace_id, list(updates.values())))
    _sending.add(task)
    task.add_done_callback(_sending.discard)


async def _send(workspace_id: int, updates: list[InboxUpdate]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(
            inbox_group(workspace_id), {"type": "inbox.batch", "updates": updates}
        )
    except Exception:
        # The inbox catches up when it next lists or opens the conversation.
        logger.exception("inbox feed for workspace %s failed", workspace_id)
