"""The one way a message joins a conversation: `message_append`.

Every message — a visitor's, the agent's answer, a person's reply or note, a system line —
is stored, moves its conversation's last-message time and is broadcast once the
transaction commits, here. Idempotency stays with the callers, which know which copy to
return: a repeated client id breaks the messages' unique constraint (`IntegrityError`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from conversations import message_rows
from conversations.inbox_selectors import ConversationSummary, conversation_summary
from conversations.models import Conversation, Message
from conversations.prepared import PreparedUpdate
from conversations.realtime import broadcast
from conversations.webhook_events import message_created_event
from security.ids import new_message_id

# What goes out after commit: the stored message, and its conversation's inbox summary
# when the append could build it from rows it just wrote (None: read it afresh).
Announce = Callable[[Message, ConversationSummary | None], None]

# The conversation's move, matched against what its inbox summary shows (`summarized`).
_BUMP_UNCHANGED = PreparedUpdate(
    Conversation,
    set_fields=("last_message_at", "updated_at"),
    match_fields=("status", "handoff_reason", "assigned_to", "customer"),
)


def message_broadcast(message: Message, summary: ConversationSummary | None) -> None:
    """The default announcement: the visitor's widgets and the workspace's inbox."""
    broadcast.broadcast_message(message, inbox_summary=summary)


def message_append(
    *,
    conversation: Conversation,
    role: str,
    text: str,
    public_id: str | None = None,
    client_id: str | None = None,
    author: Any = None,
    metadata: dict[str, Any] | None = None,
    summarized: bool = False,
    announce: Announce | None = message_broadcast,
) -> Message:
    """Store a message in `conversation`, move the conversation's `last_message_at` to it
    (not for an internal note: no news for the visitor) and, after commit, `announce` it.

    Runs inside the caller's transaction (two statements). `summarized`: the caller loaded
    the conversation with what its inbox summary shows (agent, customer, assignee), so the
    summary is built from memory while the row still holds those. `announce=None`: the
    caller fans the message out itself (the visitor's socket does, from its event loop).
    """
    message = message_rows.message_insert(
        conversation=conversation,
        public_id=public_id or new_message_id(),
        role=role,
        text=text,
        client_id=client_id,
        author=author,
        metadata=metadata or {},
        created_at=timezone.now(),
    )
    summary = None
    if role == Message.Role.NOTE:
        pass
    elif summarized:
        summary = _conversation_bump_summarized(conversation, message=message)
    else:
        message_rows.conversation_touch(
            conversation=conversation, last_message_at=message.created_at
        )
    message_created_event(conversation, message)  # to the workspace's webhooks, after commit
    if announce is not None:
        then = announce
        # robust: the message is stored whatever happens next; a failed fan-out is logged
        # and heals on the client's next sync.
        transaction.on_commit(lambda: then(message, summary), robust=True)
    return message


def _conversation_bump_summarized(
    conversation: Conversation, *, message: Message
) -> ConversationSummary | None:
    """Move the conversation's last-message time to `message`'s; returns its inbox summary
    when the rows loaded before still hold what the summary shows.

    The update only matches while the conversation's status, handoff, assignee and customer
    are those loaded (a person may have taken it, or a handoff moved it, meanwhile); then
    the summary is built from memory, exact as of the commit since the update holds the
    row. Otherwise (rarely) it is moved regardless, and None lets the broadcast read the
    summary afresh.
    """
    now = timezone.now()
    unchanged = _BUMP_UNCHANGED.run(
        conversation.pk,
        (message.created_at, now),
        (
            conversation.status,
            conversation.handoff_reason,
            conversation.assigned_to_id,
            conversation.customer_id,
        ),
    )
    conversation.last_message_at, conversation.updated_at = message.created_at, now
    if unchanged:
        return conversation_summary(conversation, last=message)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=message.created_at, updated_at=now
    )
    return None
