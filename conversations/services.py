"""The message pipeline: store first, acknowledge, then answer."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from agents.models import Agent
from agents.responders import responder_for
from agents.responders.base import CustomerContext, HistoryItem, Reply
from analytics.prometheus import responder_timed
from conversations import realtime
from conversations.analytics_events import conversation_started_record, message_answered_record
from conversations.handoff import handoff_after_customer_message, handoff_after_reply
from conversations.models import Conversation, Message
from conversations.parties import Party
from conversations.selectors import conversation_current
from conversations.task_queue import task_enqueue
from customers.models import Customer
from customers.profiles import customer_facts
from security.errors import InvalidRequest
from security.ids import ALPHABET, RANDOM_LENGTH
from security.pii import PiiPolicy, pii_mask

logger = logging.getLogger(__name__)

HISTORY_WINDOW = 20


@dataclass(frozen=True)
class Received:
    message: Message
    created: bool


def _conversation_open(*, agent: Agent, party: Party, origin: str, page_url: str) -> Conversation:
    # A session outlives an erased customer (tokens are stateless): then it talks unlinked.
    customer_id = (
        party.customer_id
        if party.customer_id is not None and Customer.objects.filter(pk=party.customer_id).exists()
        else None
    )
    existing = conversation_current(agent_id=agent.pk, owner_key=party.owner_key)
    if existing is not None:
        if customer_id is not None and existing.customer_id is None:
            existing.customer_id = customer_id  # an identified visitor, shown to staff
            existing.save(update_fields=["customer", "updated_at"])
        return existing
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                agent=agent,
                visitor_id=party.visitor_id,
                owner_key=party.owner_key,
                customer_id=customer_id,
                origin=origin[:255],
                page_url=page_url[:2000],
            )
            conversation_started_record(conversation)  # analytics, by id and only once
            return conversation
    except IntegrityError:
        # Another tab opened it at the same moment; the constraint lets only one exist.
        found = conversation_current(agent_id=agent.pk, owner_key=party.owner_key)
        if found is None:
            raise
        return found


def agent_pii_policy(agent: Agent) -> PiiPolicy:
    """The agent's masking policy; a stored config that no longer reads masks everything."""
    try:
        return PiiPolicy.from_config(agent.pii_masking or None)
    except ValueError:
        logger.error("agent %s has an unreadable PII config; masking everything", agent)
        return PiiPolicy()


def message_receive(
    *,
    agent: Agent,
    party: Party,
    client_id: str,
    text: str,
    origin: str = "",
    page_url: str = "",
) -> Received:
    """Store a visitor's message exactly once per `client_id`, then queue the reply.

    A retried send (same `client_id`) returns the stored message and changes nothing.
    """
    text = text.strip()
    if not text:
        raise InvalidRequest("A message needs some text.")
    # Only the masked text is ever stored (and so ever shown to a model or exported).
    masked = pii_mask(text, policy=agent_pii_policy(agent), region=agent.pii_region)
    text = masked.text
    duplicate = _by_client_id(agent=agent, owner_key=party.owner_key, client_id=client_id)
    if duplicate is not None:
        return Received(duplicate, created=False)
    try:
        with transaction.atomic():
            conversation = _conversation_open(
                agent=agent, party=party, origin=origin, page_url=page_url
            )
            message = Message.objects.create(
                conversation=conversation,
                role=Message.Role.CUSTOMER,
                text=text,
                client_id=client_id,
                metadata={"piiMasked": sorted({str(f.kind) for f in masked.found})}
                if masked.changed
                else {},
            )
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=message.created_at, updated_at=timezone.now()
            )
            # robust: the message is stored whatever happens next, so the visitor gets an
            # ack even if fan-out or queueing fails (logged) after the commit.
            transaction.on_commit(lambda: _after_customer_message(message.pk), robust=True)
    except IntegrityError:
        duplicate = _by_client_id(agent=agent, owner_key=party.owner_key, client_id=client_id)
        if duplicate is None:
            raise
        return Received(duplicate, created=False)
    return Received(message, created=True)


def _by_client_id(*, agent: Agent, owner_key: str, client_id: str) -> Message | None:
    return (
        Message.objects.select_related("conversation__agent")
        .filter(conversation__agent=agent, conversation__owner_key=owner_key, client_id=client_id)
        .first()
    )


def _after_customer_message(message_id: int) -> None:
    from conversations.tasks import reply_to_message

    message = Message.objects.select_related("conversation__agent").get(pk=message_id)
    try:
        realtime.broadcast_message(message)  # the visitor's other tabs, in order
    except Exception:
        # A missed echo heals on the next sync; a missed reply would not, so go on.
        logger.exception("fan-out of %s failed", message.public_id)
    if not _handed_off(message):
        task_enqueue(reply_to_message, message_id)


def _handed_off(message: Message) -> bool:
    """Apply the handoff rules to a visitor message; a broken rule lets the bot answer."""
    try:
        return handoff_after_customer_message(message)
    except Exception:
        logger.exception("handoff rules failed on %s; the bot answers", message.public_id)
        return False


@contextmanager
def _typing(conversation: Conversation, *, enabled: bool) -> Iterator[None]:
    """Show the agent typing to the visitor while the block runs (when worth a broadcast)."""
    if not enabled:
        yield
        return
    target = {
        "agent_public_id": conversation.agent.public_id,
        "owner_key": conversation.owner_key,
    }
    realtime.broadcast_typing(**target, role="agent", state=True)
    try:
        yield
    finally:
        realtime.broadcast_typing(**target, role="agent", state=False)


def _customer_context(conversation: Conversation) -> CustomerContext | None:
    customer = conversation.customer
    if customer is None:
        return None
    return CustomerContext(
        external_id=customer.external_id,
        verified=customer.is_verified,
        name=customer.name,
        email=customer.email,
        facts=customer_facts(customer.pk),
    )


def reply_public_id(question: Message) -> str:
    """The public id of the answer to `question`, known before the answer exists, so its
    streamed pieces and the final message share it.

    Derived (keyed with SECRET_KEY, so still unguessable) from the question rather than
    random: a retried task streams under the same id, and its final message replaces
    whatever a crashed attempt had already shown.
    """
    digest = salted_hmac("conversations.reply_public_id", question.public_id).digest()
    number = int.from_bytes(digest[:12], "big")
    chars = []
    for _ in range(RANDOM_LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "msg_" + "".join(chars)


def reply_generate(*, message_id: int) -> Message | None:
    """The agent's answer to one visitor message; idempotent (one reply per message).

    A streaming responder's text reaches the visitor as `message.delta` events under the
    answer's id while it is written; the stored answer then goes out as the final
    `message` with the same id.
    """
    message = Message.objects.select_related("conversation__agent", "conversation__customer").get(
        pk=message_id
    )
    conversation = message.conversation
    if conversation.status != Conversation.Status.BOT:
        return None  # a person has the conversation
    reply_key = f"reply:{message.public_id}"
    if Message.objects.filter(conversation=conversation, client_id=reply_key).exists():
        return None
    agent = conversation.agent
    responder = responder_for(agent)
    earlier = (
        Message.objects.filter(conversation=conversation, id__lt=message.pk)
        .exclude(role=Message.Role.NOTE)  # internal notes never reach a model
        .order_by("-id")[:HISTORY_WINDOW]
    )
    history = [HistoryItem(role=m.role, text=m.text) for m in reversed(earlier)]
    answer_id = reply_public_id(message)
    stream = realtime.DeltaStream(
        agent_public_id=agent.public_id, owner_key=conversation.owner_key, message_id=answer_id
    )
    with _typing(conversation, enabled=responder.shows_typing), responder_timed(agent.responder):
        reply = responder.respond(
            agent=agent,
            question=message.text,
            history=history,
            customer=_customer_context(conversation),
            conversation_id=conversation.public_id,
            owner_key=conversation.owner_key,
            on_delta=stream.push,
        )
        stream.flush()
    try:
        with transaction.atomic():
            answer = Message.objects.create(
                public_id=answer_id,
                conversation=conversation,
                role=Message.Role.AGENT,
                text=reply.text,
                client_id=reply_key,
                metadata={
                    **reply.metadata,
                    "inReplyTo": message.public_id,
                    "answered": reply.answered,
                    "sources": reply.sources,
                    "handoffSuggested": reply.handoff_suggested,
                    **({"cards": reply.cards} if reply.cards else {}),
                    **({"quickReplies": reply.quick_replies} if reply.quick_replies else {}),
                },
            )
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=answer.created_at, updated_at=timezone.now()
            )
            transaction.on_commit(lambda: realtime.broadcast_message(answer), robust=True)
    except IntegrityError:
        return None  # a concurrent run answered first
    message_answered_record(question=message, answer=answer)  # analytics: first-response ms
    _after_reply(conversation=conversation, question=message, answer=answer, reply=reply)
    return answer


def _after_reply(
    *, conversation: Conversation, question: Message, answer: Message, reply: Reply
) -> None:
    """Runs once per stored answer (never for a duplicate run): the place for what follows
    an answer, such as the handoff rules."""
    logger.info(
        "answered %s in %s (answered=%s, by %s)",
        question.public_id,
        conversation,
        reply.answered,
        reply.metadata.get("responder", "knowledge"),
    )
    handoff_after_reply(answer=answer, reply=reply)
