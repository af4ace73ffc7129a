"""When the agent hands a conversation to a person, and what the visitor is told.

Rules, in order, for a visitor's message while the bot holds the conversation:
1. the visitor asks for a person ("human", "talk to someone", "parler à quelqu'un"…) or
   says yes to the agent's offer of one;
2. the message contains one of the agent's handoff keywords;
3. the visitor is a verified customer whose VIP attribute is truthy.
Keywords and VIP apply once per conversation (a person who released it back to the bot
decided so); an explicit request always hands off.

After the agent's reply: the responder was unsure twice in a row (its first "I don't
know" offers a person), or it failed.

Handing off moves the conversation to "waiting", records why and when, tells the visitor
("Connecting you with a person…", or the agent's away message outside business hours)
and records a `handed_off` analytics event. The bot stays silent until a person releases
the conversation back to it (`conversations.staff`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.answering.hours import business_hours_open
from agents.contracts import Reply
from conversations.lifecycle import conversation_event_record, conversation_status_set
from conversations.messages import message_append
from conversations.models import Conversation, Message
from conversations.phrases import accepts_offer, asks_for_person, contains_keyword
from conversations.webhook_events import conversation_event

logger = logging.getLogger(__name__)

CONNECTING = "Connecting you with a person… they will answer here."
DEFAULT_AWAY = "Our team is away right now; we will answer here as soon as we are back."
# The responder's "I don't know" that hands over: the first offers a person, the second
# in a row connects one.
UNSURE_IN_A_ROW = 2
FALSY_ATTRIBUTES = {"", "0", "false", "no", "off", "none", "null"}


class Reason:
    VISITOR_ASKED = "visitor_asked"
    KEYWORD = "keyword"
    VIP = "vip"
    RESPONDER_UNSURE = "responder_unsure"
    RESPONDER_FAILED = "responder_failed"
    STAFF = "staff"  # a person took it over straight from the bot


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() not in FALSY_ATTRIBUTES
    return bool(value)


def _offered_a_person(conversation: Conversation, before: int) -> bool:
    last = (
        Message.objects.filter(conversation=conversation, id__lt=before)
        .exclude(role__in=[Message.Role.CUSTOMER, Message.Role.NOTE])
        .order_by("-id")
        .first()
    )
    return (
        last is not None
        and last.role == Message.Role.AGENT
        and bool((last.metadata or {}).get("handoffSuggested"))
    )


def handoff_reason_for_message(message: Message) -> str | None:
    """Why this visitor message should go to a person, or None to let the bot answer."""
    conversation = message.conversation
    agent = conversation.agent
    if asks_for_person(message.text):
        return Reason.VISITOR_ASKED
    if accepts_offer(message.text) and _offered_a_person(conversation, message.pk):
        return Reason.VISITOR_ASKED
    if conversation.handed_off_at is not None:
        return None
    keywords = agent.handoff_keywords if isinstance(agent.handoff_keywords, list) else []
    if contains_keyword(message.text, keywords):
        return Reason.KEYWORD
    customer = conversation.customer
    vip = agent.handoff_vip_attribute.strip()
    if vip and customer is not None and customer.is_verified:
        attributes = customer.attributes if isinstance(customer.attributes, dict) else {}
        if _truthy(attributes.get(vip)):
            return Reason.VIP
    return None


def handoff_after_customer_message(message: Message) -> bool:
    """Apply the message rules; True when the conversation went to a person (no bot reply)."""
    conversation = message.conversation
    if conversation.status != Conversation.Status.BOT:
        return False
    reason = handoff_reason_for_message(message)
    if reason is None:
        return False
    return conversation_hand_off(conversation=conversation, reason=reason)


def handoff_after_reply(*, answer: Message, reply: Reply) -> bool:
    """After the agent's reply is stored: hand off when it was unsure twice in a row, or
    when it answered and still asked for a person (a model deciding so).

    Never raises: the answer is stored and sent whatever happens here.
    """
    try:
        return _unsure_rule(answer=answer, reply=reply)
    except Exception:
        logger.exception("handoff rules failed after %s", answer.public_id)
        return False


def _unsure_rule(*, answer: Message, reply: Reply) -> bool:
    if reply.answered and not reply.handoff_suggested:
        return False
    if reply.answered:
        return conversation_hand_off(
            conversation=answer.conversation, reason=Reason.RESPONDER_UNSURE
        )
    recent = (
        Message.objects.filter(conversation_id=answer.conversation_id, id__lte=answer.pk)
        .exclude(role__in=[Message.Role.CUSTOMER, Message.Role.NOTE])
        .order_by("-id")
        .values_list("role", "metadata")[:UNSURE_IN_A_ROW]
    )
    # A person's or the system's word in between (a handoff, a release) starts afresh.
    unsure = [
        role == Message.Role.AGENT
        and (not (meta or {}).get("answered", True) or bool((meta or {}).get("handoffSuggested")))
        for role, meta in recent
    ]
    if len(unsure) < UNSURE_IN_A_ROW or not all(unsure):
        return False
    return conversation_hand_off(conversation=answer.conversation, reason=Reason.RESPONDER_UNSURE)


def handoff_after_failure(*, message_id: int) -> bool:
    """The responder failed on this visitor message: a person takes over."""
    conversation = (
        Conversation.objects.filter(messages__pk=message_id).select_related("agent").first()
    )
    if conversation is None or conversation.status != Conversation.Status.BOT:
        return False
    return conversation_hand_off(conversation=conversation, reason=Reason.RESPONDER_FAILED)


def away_text(conversation: Conversation) -> str:
    """What the visitor is told on handoff: connecting now, or the team is away."""
    agent = conversation.agent
    if business_hours_open(agent.business_hours):
        return CONNECTING
    return agent.away_message.strip() or DEFAULT_AWAY


def conversation_hand_off(*, conversation: Conversation, reason: str) -> bool:
    """Move a bot conversation to "waiting" for a person; False if the bot no longer held it.

    The visitor gets a system message; staff see the conversation rise in the inbox.
    """
    with transaction.atomic():
        locked = (
            Conversation.objects.select_for_update()
            .select_related("agent")
            .filter(pk=conversation.pk)
            .first()
        )
        if locked is None or locked.status != Conversation.Status.BOT:
            return False
        now = timezone.now()
        locked.handoff_reason, locked.handed_off_at = reason, now
        locked.save(update_fields=["handoff_reason", "handed_off_at", "updated_at"])
        conversation_status_set(conversation=locked, status=Conversation.Status.WAITING)
        system_message_add(
            conversation=locked, text=away_text(locked), metadata={"handoff": reason}
        )
        conversation_event_record(locked, "handed_off", {"reason": reason}, at=now)
        conversation_event(locked, "conversation.handoff", reason=reason)
    conversation.status, conversation.handoff_reason = locked.status, reason
    conversation.handed_off_at = now
    logger.info("%s handed off (%s)", locked.public_id, reason)
    return True


def system_message_add(
    *, conversation: Conversation, text: str, metadata: dict[str, Any] | None = None
) -> Message:
    """A system line in the transcript (shown to the visitor), fanned out after commit."""
    return message_append(
        conversation=conversation, role=Message.Role.SYSTEM, text=text, metadata=metadata
    )
