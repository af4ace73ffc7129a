"""What staff do with a conversation: take it over, reply, note, release, resolve.

Every service takes the acting user and a conversation's public id, and finds it only
among the conversations of the user's workspaces (`conversation_for_staff`): another
workspace's conversation answers exactly like one that does not exist. Used by the inbox
websocket (conversations.sockets.inbox_consumer); the same rules serve any future REST endpoint.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from conversations.analytics_events import staff_answered_record
from conversations.handoff import Reason, system_message_add
from conversations.inbox_selectors import StaffUser, conversation_for_staff
from conversations.lifecycle import conversation_status_set
from conversations.messages import message_append
from conversations.models import Conversation, Message
from conversations.realtime import broadcast
from conversations.realtime.protocol import MESSAGE_MAX_CHARS, STAFF_CLIENT_ID, STAFF_CLIENT_ID_RULE
from conversations.selectors import conversation_current
from conversations.webhook_events import conversation_event
from core.errors import ApiError, InvalidRequest

logger = logging.getLogger(__name__)

# A staff client's id for a reply or note (the inbox makes one per message it sends).
STAFF_CLIENT_PREFIX = "staff:"

ASSISTANT_BACK = "You are chatting with our assistant again."
Status = Conversation.Status


class Conflict(ApiError):
    status = 409
    code = "conflict"
    default_message = "Someone else holds this conversation."


def _locked(*, user: StaffUser, conversation_id: Any) -> Conversation:
    """The user's conversation, locked for the rest of the transaction."""
    found = conversation_for_staff(user=user, conversation_id=conversation_id)
    # Scoping filters through memberships (DISTINCT), which FOR UPDATE cannot take: lock
    # the row by primary key once it is known to be the user's.
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("agent", "customer", "assigned_to")
        .get(pk=found.pk)
    )


def _refuse_resolved(conversation: Conversation) -> None:
    if conversation.status == Status.RESOLVED:
        raise InvalidRequest("This conversation is resolved.")


def _joined_text(user: Any) -> str:
    # Visitors see a first name at most: usernames and emails are internal.
    name = (getattr(user, "first_name", "") or "").strip()
    return f"{name or 'Someone from our team'} joined the conversation."


def _take(conversation: Conversation, user: Any) -> None:
    """Assign to `user` (inside the caller's transaction) and tell the visitor."""
    if conversation.handed_off_at is None:
        conversation.handed_off_at = timezone.now()
        conversation.handoff_reason = Reason.STAFF
    conversation.assigned_to = user
    conversation.save(
        update_fields=["assigned_to", "handed_off_at", "handoff_reason", "updated_at"]
    )
    if conversation.status != Status.ASSIGNED:
        conversation_status_set(conversation=conversation, status=Status.ASSIGNED)
    else:  # a hand-over between staff: only the inbox needs to know
        transaction.on_commit(
            lambda: broadcast.broadcast_inbox_conversation(conversation), robust=True
        )
    system_message_add(conversation=conversation, text=_joined_text(user))
    conversation_event(conversation, "conversation.assigned")


def conversation_take(
    *, user: StaffUser, conversation_id: Any, force: bool = False
) -> Conversation:
    """Assign the conversation to `user`: the bot stops answering, the visitor is told.

    Taking one that a colleague holds needs `force` (the inbox asks first).
    """
    with transaction.atomic():
        conversation = _locked(user=user, conversation_id=conversation_id)
        _refuse_resolved(conversation)
        holder = conversation.assigned_to
        if holder is not None and holder.pk == user.pk and conversation.status == Status.ASSIGNED:
            return conversation
        if holder is not None and conversation.status == Status.ASSIGNED and not force:
            raise Conflict(f"{holder.get_username()} holds this conversation.")
        _take(conversation, user)
    logger.info("%s taken by %s", conversation.public_id, user.pk)
    return conversation


def conversation_release(*, user: StaffUser, conversation_id: Any) -> Conversation:
    """Give the conversation back to the bot, which answers the visitor's next message."""
    with transaction.atomic():
        conversation = _locked(user=user, conversation_id=conversation_id)
        _refuse_resolved(conversation)
        if conversation.status == Status.BOT:
            return conversation
        conversation.assigned_to = None
        conversation.save(update_fields=["assigned_to", "updated_at"])
        conversation_status_set(conversation=conversation, status=Status.BOT)
        system_message_add(conversation=conversation, text=ASSISTANT_BACK)
    logger.info("%s released by %s", conversation.public_id, user.pk)
    return conversation


def conversation_resolve(*, user: StaffUser, conversation_id: Any) -> Conversation:
    """Close it as resolved by a person; the visitor's widget asks for a rating."""
    with transaction.atomic():
        conversation = _locked(user=user, conversation_id=conversation_id)
        _refuse_resolved(conversation)
        if conversation.assigned_to is None:
            conversation.assigned_to = user  # who resolved it, for the record
            conversation.save(update_fields=["assigned_to", "updated_at"])
        conversation_status_set(
            conversation=conversation, status=Status.RESOLVED, resolved_by="human"
        )
    return conversation


def _text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("Write some text.")
    if len(text) > MESSAGE_MAX_CHARS:
        raise InvalidRequest(f"At most {MESSAGE_MAX_CHARS} characters.")
    return text.strip()


def _client_key(client_id: Any) -> str | None:
    """Where a staff client id is stored: apart from visitors' ids in the same column."""
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not STAFF_CLIENT_ID.match(client_id):
        raise InvalidRequest(STAFF_CLIENT_ID_RULE)
    return f"{STAFF_CLIENT_PREFIX}{client_id}"


def _already_sent(conversation: Conversation, key: str | None) -> Message | None:
    if key is None:
        return None
    return conversation.messages.filter(client_id=key).select_related("author").first()


def staff_message_sent(conversation: Conversation, client_id: str | None) -> Message | None:
    """The reply or note already stored under this staff client id, if any."""
    return _already_sent(conversation, _client_key(client_id))


def staff_reply(
    *, user: StaffUser, conversation_id: Any, text: Any, client_id: Any = None
) -> Message:
    """A person's answer, sent to the visitor's widgets at once.

    Written by staff, so it is stored as typed (PII masking is for what strangers send).
    Replying to a conversation nobody holds takes it, so the bot does not answer too.
    A repeated `client_id` (a resend after a lost connection or a timed-out request)
    returns the message already stored, once.
    """
    body, key = _text(text), _client_key(client_id)
    with transaction.atomic():
        conversation = _locked(user=user, conversation_id=conversation_id)
        sent = _already_sent(conversation, key)
        if sent is not None:
            return sent
        _refuse_resolved(conversation)
        if conversation.assigned_to is None or conversation.status != Status.ASSIGNED:
            _take(conversation, user)
        message = message_append(
            conversation=conversation,
            role=Message.Role.STAFF,
            text=body,
            author=user,
            client_id=key,
        )
        staff_answered_record(message)  # analytics: a person's first-response time
    return message


def staff_note(
    *, user: StaffUser, conversation_id: Any, text: Any, client_id: Any = None
) -> Message:
    """An internal note: stored and shown to the workspace's staff, never to the visitor
    or a model. A repeated `client_id` returns the note already stored."""
    body, key = _text(text), _client_key(client_id)
    with transaction.atomic():
        conversation = _locked(user=user, conversation_id=conversation_id)
        sent = _already_sent(conversation, key)
        if sent is not None:
            return sent
        message = message_append(
            conversation=conversation, role=Message.Role.NOTE, text=body, author=user, client_id=key
        )
    return message


def staff_typing(*, user: StaffUser, conversation_id: Any, state: bool) -> None:
    """Show "typing…" in the visitor's widgets while a person writes."""
    conversation = conversation_for_staff(user=user, conversation_id=conversation_id)
    if conversation.status == Status.RESOLVED:
        return
    broadcast.broadcast_typing(
        agent_public_id=conversation.agent.public_id,
        owner_key=conversation.owner_key,
        role="staff",
        state=state,
    )


def visitor_typing_relay(*, agent_id: int, workspace_id: int, owner_key: str, state: bool) -> None:
    """The visitor's typing, relayed to the workspace's inbox for their open conversation."""
    conversation = conversation_current(agent_id=agent_id, owner_key=owner_key)
    if conversation is None:
        return  # nothing sent yet: no conversation for staff to watch
    broadcast.broadcast_inbox_typing(
        workspace_id=workspace_id,
        conversation_id=conversation.public_id,
        role="customer",
        state=state,
    )
