"""The message pipeline: store first, acknowledge, then answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from agents.models import Agent
from conversations import message_rows
from conversations.analytics_events import conversation_started_record
from conversations.handoff import handoff_after_customer_message
from conversations.messages import Announce, message_append
from conversations.models import Conversation, Message
from conversations.parties import Party
from conversations.realtime import broadcast
from conversations.task_names import REPLY_TASK
from conversations.webhook_events import conversation_event
from core.errors import InvalidRequest
from core.task_queue import task_enqueue
from customers.models import Customer
from security.pii import PiiPolicy, pii_mask

logger = logging.getLogger(__name__)


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
            conversation_event(conversation, "conversation.created")  # webhooks
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
