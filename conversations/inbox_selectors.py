"""What the staff inbox reads: conversation summaries, transcripts with notes, the customer.

Everything here is for staff of the conversation's workspace only (callers scope with
`workspaces.scoping.scope_to_user`); nothing here is ever sent to a widget.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When

from conversations.identity import CustomerOut, customer_out
from conversations.models import Conversation, Message
from conversations.selectors import MessageOut, message_out
from core.errors import NotFound
from core.times import iso_utc
from customers.profiles import customer_facts
from workspaces.models import Workspace
from workspaces.scoping import scope_to_user

INBOX_SIZE = 200
PREVIEW_CHARS = 140
TRANSCRIPT_SIZE = 500

# The acting staff member (the project uses Django's user model); readers also take the
# anonymous user, who sees nothing.
StaffUser = User
Viewer = User | AnonymousUser


class PersonOut(TypedDict):
    id: int
    name: str


class LastMessageOut(TypedDict):
    role: str
    text: str
    createdAt: str


class ConversationSummary(TypedDict):
    id: str
    workspaceId: int
    agent: dict[str, str]
    status: str
    assignedTo: PersonOut | None
    handoffReason: str
    handedOffAt: str | None
    customer: CustomerOut | None
    visitorId: str
    lastMessage: LastMessageOut | None
    lastMessageAt: str | None
    updatedAt: str


class StaffMessageOut(MessageOut):
    author: PersonOut | None


class FactOut(TypedDict):
    key: str
    value: str
    source: str


class ConversationDetail(TypedDict):
    conversation: ConversationSummary
    messages: list[StaffMessageOut]
    hasMore: bool
    customer: CustomerOut | None
    facts: list[FactOut]
    page: dict[str, str]


def person_out(user: Any) -> PersonOut | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def _last_out(message: Message | None) -> LastMessageOut | None:
    if message is None:
        return None
    text = message.text
    return {
        "role": message.role,
        "text": text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…",
        "createdAt": iso_utc(message.created_at) or "",
    }


def conversation_summary(
    conversation: Conversation, *, last: Message | None = None
) -> ConversationSummary:
    """One row of the inbox list. `last` saves a query when the caller has it."""
    if last is None:
        last = conversation.messages.order_by("-id").first()
    agent = conversation.agent
    return {
        "id": conversation.public_id,
        "workspaceId": agent.workspace_id,
        "agent": {"id": agent.public_id, "name": agent.name},
        "status": conversation.status,
        "assignedTo": person_out(conversation.assigned_to),
        "handoffReason": conversation.handoff_reason,
        "handedOffAt": iso_utc(conversation.handed_off_at),
        "customer": customer_out(conversation.customer),
        "visitorId": conversation.visitor_id,
        "lastMessage": _last_out(last),
        "lastMessageAt": iso_utc(conversation.last_message_at),
        "updatedAt": iso_utc(conversation.updated_at) or "",
    }


def conversation_summary_fresh(
    conversation_id: int, *, last: Message | None = None
) -> ConversationSummary | None:
    """The summary re-read from the database (after a change), or None if it is gone."""
    conversation = _with_people(Conversation.objects.filter(pk=conversation_id)).first()
    return conversation_summary(conversation, last=last) if conversation else None


def _with_people(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return queryset.select_related("agent", "customer", "assigned_to")


def _scoped(queryset: QuerySet[Any], user: Viewer) -> QuerySet[Any]:
    # ScopedUser declares plain attributes; Django's user has read-only properties for them.
    return scope_to_user(queryset, user)  # type: ignore[arg-type]


def inbox_workspace_ids(user: Viewer) -> list[int]:
    """The workspaces whose conversations this user may see (all, for a superuser)."""
    return list(_scoped(Workspace.objects.all(), user).values_list("pk", flat=True))


def inbox_conversations(*, user: Viewer, limit: int = INBOX_SIZE) -> list[ConversationSummary]:
    """Open conversations: waiting first, then assigned, then with the bot; newest first."""
    latest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id")
    rows = (
        _with_people(_scoped(Conversation.objects.all(), user))
        .exclude(status=Conversation.Status.RESOLVED)
        .annotate(
            rank=Case(
                When(status=Conversation.Status.WAITING, then=Value(0)),
                When(status=Conversation.Status.ASSIGNED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            last_id=Subquery(latest.values("id")[:1]),
        )
        .order_by("rank", "-last_message_at", "-updated_at")[:limit]
    )
    conversations = list(rows)
    last_by_id = Message.objects.in_bulk([c.last_id for c in conversations if c.last_id])
    return [conversation_summary(c, last=last_by_id.get(c.last_id)) for c in conversations]


def conversation_for_staff(*, user: Viewer, conversation_id: Any) -> Conversation:
    """The conversation if it belongs to one of the user's workspaces; else 404 alike."""
    public_id = str(conversation_id)[:40] if conversation_id else ""
    found = _with_people(_scoped(Conversation.objects.all(), user)).filter(public_id=public_id)
    conversation = found.first()
    if conversation is None:
        raise NotFound("No such conversation.")
    return conversation


def staff_message_out(message: Message) -> StaffMessageOut:
    """A message as staff see it: notes included, with the staff author's name."""
    out: dict[str, Any] = {**message_out(message), "author": person_out(message.author)}
    return out  # type: ignore[return-value]


def conversation_detail(*, user: Viewer, conversation_id: Any) -> ConversationDetail:
    """Everything the inbox shows when a conversation is opened."""
    conversation = conversation_for_staff(user=user, conversation_id=conversation_id)
    rows = list(
        Message.objects.filter(conversation=conversation)
        .select_related("author")
        .order_by("-id")[: TRANSCRIPT_SIZE + 1]
    )
    has_more = len(rows) > TRANSCRIPT_SIZE
    messages = list(reversed(rows[:TRANSCRIPT_SIZE]))
    return {
        "conversation": conversation_summary(conversation, last=messages[-1] if messages else None),
        "messages": [staff_message_out(m) for m in messages],
        "hasMore": has_more,
        "customer": customer_out(conversation.customer),
        "facts": [
            {"key": f.key, "value": f.value, "source": f.source}
            for f in customer_facts(conversation.customer_id, limit=20)
        ],
        "page": {"url": conversation.page_url, "origin": conversation.origin},
    }
