from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from django.conf import settings
from django.db.models import FilteredRelation, Q, QuerySet

from conversations.models import Conversation, Message


class MessageOut(TypedDict):
    id: str
    role: str
    text: str
    createdAt: str
    clientId: str | None
    # Only on agent and staff messages that have them (e.g. product cards from a tool).
    cards: NotRequired[list[dict[str, Any]]]
    quickReplies: NotRequired[list[dict[str, str]]]


def message_out(message: Message) -> MessageOut:
    out: MessageOut = {
        "id": message.public_id,
        "role": message.role,
        "text": message.text,
        "createdAt": message.created_at.isoformat().replace("+00:00", "Z"),
        # The agent's own idempotency keys are internal; only the visitor's are echoed.
        "clientId": message.client_id if message.role == Message.Role.CUSTOMER else None,
    }
    if message.role in (Message.Role.AGENT, Message.Role.STAFF):
        metadata = message.metadata if isinstance(message.metadata, dict) else {}
        cards = metadata.get("cards")
        if isinstance(cards, list) and cards:
            out["cards"] = [card for card in cards if isinstance(card, dict)]
        replies = metadata.get("quickReplies")
        if isinstance(replies, list) and replies:
            # Objects on the wire, so a reply can later carry more than its text.
            out["quickReplies"] = [{"label": text} for text in replies if isinstance(text, str)]
    return out


def conversation_current(*, agent_id: int, owner_key: str) -> Conversation | None:
    """The owner's (a verified customer's, else a browser's) open conversation with this agent."""
    return (
        Conversation.objects.filter(agent_id=agent_id, owner_key=owner_key)
        .exclude(status=Conversation.Status.RESOLVED)
        .order_by("-updated_at")
        .first()
    )


# The message columns conversation_resume reads (all but the staff author), in the
# model's own order, as Model.from_db wants them.
_SHOWN_FIELDS = tuple(f.attname for f in Message._meta.concrete_fields if f.name != "author")


@dataclass(frozen=True)
class ResumedConversation:
    public_id: str
    status: str
    messages: list[Message]  # the latest page, oldest first, without internal notes
    has_more: bool


def conversation_resume(
    *, agent_id: int, owner_key: str, limit: int | None = None
) -> ResumedConversation | None:
    """The owner's open conversation and its latest page of messages, in one query: what
    a returning visitor's session shows (conversation_current + messages_after)."""
    limit = limit or settings.WIDGET_HISTORY_PAGE_SIZE
    shown = [f"shown__{name}" for name in _SHOWN_FIELDS]
    rows = list(
        Conversation.objects.filter(agent_id=agent_id, owner_key=owner_key)
        .exclude(status=Conversation.Status.RESOLVED)
        # A LEFT JOIN: a conversation without a visible message still comes back, once.
        .annotate(
            shown=FilteredRelation("messages", condition=~Q(messages__role=Message.Role.NOTE))
        )
        .order_by("-updated_at", "-id", "-shown__id")
        .values_list("pk", "public_id", "status", *shown)[: limit + 1]
    )
    if not rows:
        return None
    conversation_pk, public_id, status = rows[0][:3]
    page = [row[3:] for row in rows if row[0] == conversation_pk and row[3] is not None]
    messages = [Message.from_db("default", _SHOWN_FIELDS, values) for values in page[:limit]]
    return ResumedConversation(
        public_id=public_id,
        status=status,
        messages=list(reversed(messages)),
        has_more=len(page) > limit,
    )


def messages_after(
    *, conversation: Conversation, after: str | None, limit: int | None = None
) -> tuple[list[Message], bool]:
    """Messages after the one with public id `after`, oldest first, and whether more follow.

    The visitor's view: internal notes are never included. Without `after`, or with an id
    not in this conversation, the latest page is returned.
    """
    limit = limit or settings.WIDGET_HISTORY_PAGE_SIZE
    queryset = Message.objects.filter(conversation=conversation).exclude(role=Message.Role.NOTE)
    anchor = (
        queryset.filter(public_id=after).values_list("id", flat=True).first() if after else None
    )
    if anchor is None:
        return _latest(queryset, limit)
    rows = list(queryset.filter(id__gt=anchor).order_by("id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def _latest(queryset: QuerySet[Message], limit: int) -> tuple[list[Message], bool]:
    """The newest `limit` messages, oldest first, and whether older ones exist."""
    rows = list(queryset.order_by("-id")[: limit + 1])
    has_more = len(rows) > limit
    return list(reversed(rows[:limit])), has_more


@dataclass(frozen=True)
class ConversationFilters:
    """What the conversation list may be narrowed to (all optional)."""

    status: str | None = None
    agent: str | None = None  # an agent's public id
    customer: int | None = None
    assigned: str | None = None  # "me", "none" or a username
    updated_since: datetime | None = None
    text: str = ""  # in any message


def conversations_filtered(
    rows: QuerySet[Conversation], filters: ConversationFilters, *, me: int | None
) -> QuerySet[Conversation]:
    """`rows` narrowed by `filters`, most recently active first; `me` is the caller's id."""
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    if filters.agent is not None:
        rows = rows.filter(agent__public_id=filters.agent)
    if filters.customer is not None:
        rows = rows.filter(customer_id=filters.customer)
    if filters.assigned == "me":
        rows = rows.filter(assigned_to_id=me)
    elif filters.assigned == "none":
        rows = rows.filter(assigned_to__isnull=True)
    elif filters.assigned is not None:
        rows = rows.filter(assigned_to__username=filters.assigned)
    if filters.updated_since is not None:
        rows = rows.filter(updated_at__gte=filters.updated_since)
    if filters.text:
        rows = rows.filter(messages__text__icontains=filters.text).distinct()
    return rows.order_by("-updated_at", "-id")
