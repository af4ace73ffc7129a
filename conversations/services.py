"""The message pipeline: store first, acknowledge, then answer."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.crypto import salted_hmac

from agents.answering.responders import responder_for
from agents.contracts import CustomerContext, HistoryItem, Reply
from agents.models import Agent
from analytics.prometheus import responder_timed
from conversations import message_rows
from conversations.analytics_events import conversation_started_record, message_answered_record
from conversations.handoff import handoff_after_customer_message, handoff_after_reply
from conversations.messages import Announce, message_append
from conversations.models import Conversation, Message
from conversations.parties import Party
from conversations.prepared import PreparedQuery
from conversations.realtime import broadcast
from conversations.recovery import reply_busy
from conversations.task_names import REPLY_TASK
from core.errors import InvalidRequest
from core.redis_pools import REDIS_FAULTS
from core.task_queue import task_enqueue
from customers.models import Customer
from customers.profiles import customer_facts
from security.ids import ALPHABET, RANDOM_LENGTH
from security.pii import PiiPolicy, pii_mask

logger = logging.getLogger(__name__)

HISTORY_WINDOW = 20


@dataclass(frozen=True)
class Received:
    message: Message
    created: bool


def _open_and_earlier(
    *, agent: Agent, owner_key: str, client_id: str
) -> tuple[Conversation | None, int | None]:
    """The owner's open conversation (with the people its inbox summary shows) and, in the
    same statement, the pk of a message already stored under `client_id` in any
    conversation of the owner's: a retried send, perhaps from before a resolution."""
    conversation, earlier_pk = message_rows.open_conversation_and_earlier(
        agent_id=agent.pk, owner_key=owner_key, client_id=client_id
    )
    if conversation is not None:
        conversation.agent = agent  # the caller's, so nothing downstream reads it again
    return conversation, earlier_pk


def _customer_still_there(party: Party) -> int | None:
    # A session outlives an erased customer (tokens are stateless): then it talks unlinked.
    if party.customer_id is None:
        return None
    return party.customer_id if Customer.objects.filter(pk=party.customer_id).exists() else None


def _conversation_start(*, agent: Agent, party: Party, origin: str, page_url: str) -> Conversation:
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                agent=agent,
                visitor_id=party.visitor_id,
                owner_key=party.owner_key,
                customer_id=_customer_still_there(party),
                origin=origin[:255],
                page_url=page_url[:2000],
            )
            conversation_started_record(conversation)  # analytics, by id and only once
            return conversation
    except IntegrityError:
        # Another tab opened it at the same moment; the constraint lets only one exist.
        found, _ = _open_and_earlier(agent=agent, owner_key=party.owner_key, client_id="")
        if found is None:
            raise
        return found


def _customer_link(conversation: Conversation, party: Party) -> None:
    if party.customer_id is None or conversation.customer_id is not None:
        return
    customer_id = _customer_still_there(party)
    if customer_id is not None:
        conversation.customer_id = customer_id  # an identified visitor, shown to staff
        conversation.save(update_fields=["customer", "updated_at"])


def agent_pii_policy(agent: Agent) -> PiiPolicy:
    """The agent's masking policy; a stored config that no longer reads masks everything."""
    try:
        return PiiPolicy.from_config(agent.pii_masking or None)
    except ValueError:
        logger.error("agent %s has an unreadable PII config; masking everything", agent)
        return PiiPolicy()


def message_store(
    *,
    agent: Agent,
    party: Party,
    client_id: str,
    text: str,
    origin: str = "",
    page_url: str = "",
    announce: Announce | None = None,
) -> Received:
    """Store a visitor's message exactly once per `client_id`; nothing else happens
    unless `announce` is given (run after commit, for a new message only).

    A retried send (same `client_id`) returns the stored message and changes nothing. A new
    message in an open conversation costs three statements in one transaction
    (conversations.message_rows): the conversation read together with the retry check, the
    insert, the conversation's `last_message_at`. What follows is `message_followup`'s.
    """
    text = text.strip()
    if not text:
        raise InvalidRequest("A message needs some text.")
    # Only the masked text is ever stored (and so ever shown to a model or exported).
    masked = pii_mask(text, policy=agent_pii_policy(agent), region=agent.pii_region)
    owner_key = party.owner_key
    try:
        with transaction.atomic():
            conversation, earlier_pk = _open_and_earlier(
                agent=agent, owner_key=owner_key, client_id=client_id
            )
            if earlier_pk is not None:
                return Received(_stored(earlier_pk), created=False)
            if conversation is None:
                conversation = _conversation_start(
                    agent=agent, party=party, origin=origin, page_url=page_url
                )
            else:
                _customer_link(conversation, party)
            message = message_append(
                conversation=conversation,
                role=Message.Role.CUSTOMER,
                text=masked.text,
                client_id=client_id,
                metadata={"piiMasked": sorted({str(f.kind) for f in masked.found})}
                if masked.changed
                else None,
                announce=announce,
            )
    except IntegrityError:
        # The same client_id raced in from another tab; the constraint kept one.
        duplicate = _by_client_id(agent=agent, owner_key=owner_key, client_id=client_id)
        if duplicate is None:
            raise
        return Received(duplicate, created=False)
    return Received(message, created=True)


def message_receive(
    *,
    agent: Agent,
    party: Party,
    client_id: str,
    text: str,
    origin: str = "",
    page_url: str = "",
) -> Received:
    """Store a visitor's message exactly once per `client_id`, then (after commit) show it
    and queue the reply (`message_followup`).

    A retried send (same `client_id`) returns the stored message and changes nothing.
    """
    return message_store(
        agent=agent,
        party=party,
        client_id=client_id,
        text=text,
        origin=origin,
        page_url=page_url,
        # The visitor gets an ack even if fan-out or queueing fails (logged) after commit.
        announce=lambda message, _summary: message_followup(message),
    )


def _stored(message_pk: int) -> Message:
    return Message.objects.select_related("conversation__agent").get(pk=message_pk)


def _by_client_id(*, agent: Agent, owner_key: str, client_id: str) -> Message | None:
    return (
        Message.objects.select_related("conversation__agent")
        .filter(conversation__agent=agent, conversation__owner_key=owner_key, client_id=client_id)
        .first()
    )


def message_followup(message: Message) -> None:
    """What follows a stored visitor message, in order: the visitor's other tabs and the
    inbox see it, then the handoff rules or the reply (`message_route`)."""
    try:
        broadcast.broadcast_message(message)  # the visitor's other tabs, in order
    except Exception:
        # A missed echo heals on the next sync; a missed reply would not, so go on.
        logger.exception("fan-out of %s failed", message.public_id)
    message_route(message)


def message_route(message: Message) -> None:
    """Hand a stored (and shown) visitor message to a person, or queue the agent's reply."""
    if not _handed_off(message):
        task_enqueue(REPLY_TASK, message.pk)


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
    _typing_send(target, state=True)
    try:
        yield
    finally:
        _typing_send(target, state=False)


def _typing_send(target: dict[str, str], *, state: bool) -> None:
    """Best effort: a Redis blip must cost the visitor the dots, never the answer (the
    stored answer reaches them by its broadcast or their next sync)."""
    try:
        broadcast.broadcast_typing(**target, role="agent", state=state)
    except REDIS_FAULTS as exc:
        logger.warning("typing for %s not shown: %s", target["owner_key"], exc)


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


# The answer task's two reads, compiled once per process (conversations.prepared).
_QUESTION: PreparedQuery[Message] = PreparedQuery(
    lambda pk: Message.objects.select_related(
        # and the people its inbox summary shows (message_append's `summarized`)
        "conversation__agent",
        "conversation__customer",
        "conversation__assigned_to",
    ).filter(pk=pk),
    int,
)
_HISTORY: PreparedQuery[Message] = PreparedQuery(
    lambda conversation_id, before, reply_key: (
        Message.objects.filter(conversation_id=conversation_id)
        .filter(
            # internal notes never reach a model
            (Q(id__lt=before) & ~Q(role=Message.Role.NOTE)) | Q(client_id=reply_key)
        )
        .order_by("-id")
        .values_list("role", "text", "client_id")[: HISTORY_WINDOW + 1]
    ),
    int,
    int,
    str,
)


def _history_unless_answered(question: Message, *, reply_key: str) -> list[HistoryItem] | None:
    """The conversation before `question` (at most HISTORY_WINDOW messages, oldest first),
    or None when it is answered already: one query finds both, since the answer is the
    only message after the question it can match."""
    earlier = []
    for role, text, client_id in _HISTORY.rows(question.conversation_id, question.pk, reply_key):
        if client_id == reply_key:
            return None
        earlier.append(HistoryItem(role=role, text=text))
    return earlier[:HISTORY_WINDOW][::-1]


def reply_generate(*, message_id: int) -> Message | None:
    """The agent's answer to one visitor message; idempotent (one reply per message).

    A streaming responder's text reaches the visitor as `message.delta` events under the
    answer's id while it is written; the stored answer then goes out as the final
    `message` with the same id.
    """
    found = _QUESTION.instances(message_id)
    if not found:
        raise Message.DoesNotExist(f"no message {message_id}")
    message = found[0]
    conversation = message.conversation
    if conversation.status != Conversation.Status.BOT:
        return None  # a person has the conversation
    reply_key = f"reply:{message.public_id}"
    history = _history_unless_answered(message, reply_key=reply_key)
    if history is None:
        return None
    agent = conversation.agent
    responder = responder_for(agent)
    answer_id = reply_public_id(message)
    stream = broadcast.DeltaStream(
        agent_public_id=agent.public_id, owner_key=conversation.owner_key, message_id=answer_id
    )
    with (
        reply_busy(message.pk, enabled=responder.shows_typing) as busy,
        _typing(conversation, enabled=responder.shows_typing),
        responder_timed(agent.responder),
    ):
        reply = responder.respond(
            agent=agent,
            question=message.text,
            history=history,
            customer=_customer_context(conversation),
            conversation_id=conversation.public_id,
            owner_key=conversation.owner_key,
            on_delta=busy.relay(stream.push),
        )
        stream.flush()
    try:
        with transaction.atomic():
            answer = message_append(
                conversation=conversation,
                role=Message.Role.AGENT,
                text=reply.text,
                public_id=answer_id,
                client_id=reply_key,
                metadata=_answer_metadata(question=message, reply=reply),
                summarized=True,
            )
            # Analytics (the first-response ms) in the same commit, in a savepoint of its
            # own: a failure there is logged and leaves the answer alone.
            message_answered_record(question=message, answer=answer)
    except IntegrityError:
        return None  # a concurrent run answered first
    _after_reply(conversation=conversation, question=message, answer=answer, reply=reply)
    return answer


def _answer_metadata(*, question: Message, reply: Reply) -> dict[str, Any]:
    return {
        **reply.metadata,
        "inReplyTo": question.public_id,
        "answered": reply.answered,
        "sources": reply.sources,
        "handoffSuggested": reply.handoff_suggested,
        **({"cards": reply.cards} if reply.cards else {}),
        **({"quickReplies": reply.quick_replies} if reply.quick_replies else {}),
    }


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
