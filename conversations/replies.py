"""The agent's answer to a visitor message: read the history, ask the responder (streaming
its text), store the answer once, then apply the rules that follow an answer."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.crypto import salted_hmac

from agents.answering.responders import responder_for
from agents.contracts import CustomerContext, HistoryItem, Reply
from analytics.monitoring.prometheus import responder_timed
from conversations.analytics_events import message_answered_record
from conversations.handoff import handoff_after_reply
from conversations.messages import message_append
from conversations.models import Conversation, Message
from conversations.prepared import PreparedQuery
from conversations.realtime import broadcast
from conversations.recovery import reply_busy
from core.redis_pools import REDIS_FAULTS
from security.ids import public_id_derived

logger = logging.getLogger(__name__)

HISTORY_WINDOW = 20


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
    return None if customer is None else CustomerContext.of(customer)


def reply_public_id(question: Message) -> str:
    """The public id of the answer to `question`, known before the answer exists, so its
    streamed pieces and the final message share it.

    Derived (keyed with SECRET_KEY, so still unguessable) from the question rather than
    random: a retried task streams under the same id, and its final message replaces
    whatever a crashed attempt had already shown.
    """
    digest = salted_hmac("conversations.reply_public_id", question.public_id).digest()
    return public_id_derived("msg", digest)


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
