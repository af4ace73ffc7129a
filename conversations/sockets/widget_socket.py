"""What a visitor's widget socket asks of the database: one call per frame.

The consumer (conversations.sockets.widget_consumer) runs each of these in a single database-thread
hop and keeps the cheap checks (rate limits and abuse counters, one Redis round trip
each) on the event loop. The rules stay where they live: admission in widgets.services,
abuse in security.abuse, the message pipeline in conversations.services.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.models import Agent
from conversations.greetings import greeting_remembered
from conversations.models import Conversation, Message
from conversations.parties import Party
from conversations.selectors import conversation_current, messages_after
from conversations.services import Received, message_store
from customers.identity import identity_satisfied
from customers.sessions import WidgetSession
from security.abuse import Verdict, abuse_act
from widgets.installation.refusals import installation_origin_note
from widgets.selectors import WidgetAccess
from widgets.services import widget_admit


@dataclass(frozen=True)
class SocketOpening:
    """Whether a socket may stay, and what it is told first."""

    agent: Agent | None
    access: WidgetAccess | None
    refusal: str | None  # None, "origin", "ip_blocked" or "unverified"
    conversation_id: str | None = None
    greeting: str | None = None


def visitor_socket_open(*, session: WidgetSession, origin: str, ip: str) -> SocketOpening:
    """Admit a visitor's socket and read what it starts with: the open conversation and,
    for a verified customer, a greeting remembered for them.

    Called after the socket joined its owner's group, so a greeting or message written
    after this read still reaches it live.
    """
    admission = widget_admit(
        agent_public_id=session.agent_id, origin=origin, token_origin=session.origin, ip=ip
    )
    agent, access = admission.agent, admission.access
    if agent is None or access is None:
        if admission.refusal == "origin":
            installation_origin_note(agent_public_id=session.agent_id, origin=origin)
        return SocketOpening(agent=None, access=access, refusal=admission.refusal or "origin")
    if not identity_satisfied(
        required=access.identity_required, verified=session.customer_verified
    ):
        return SocketOpening(agent=None, access=access, refusal="unverified")
    party = Party.of(session)
    conversation = conversation_current(agent_id=agent.pk, owner_key=party.owner_key)
    greeting = (
        greeting_remembered(agent=agent, customer_id=session.customer_id)
        if session.customer_verified and session.customer_id
        else None
    )
    return SocketOpening(
        agent=agent,
        access=access,
        refusal=None,
        conversation_id=conversation.public_id if conversation else None,
        greeting=greeting,
    )


@dataclass(frozen=True)
class MessageSending:
    received: Received | None  # None when the abuse screen refused the message
    refusal: str | None = None  # the abuse action taken ("slowed" or "blocked")


def visitor_message_send(
    *,
    agent: Agent,
    party: Party,
    workspace_id: int,
    ip: str,
    verdict: Verdict,
    client_id: str,
    text: str,
    origin: str,
    page_url: str,
) -> MessageSending:
    """Act on the message's abuse verdict (scored on the event loop), else store it. What
    follows a stored message is the caller's, after its ack (conversations.services)."""
    action = abuse_act(
        verdict,
        workspace_id=workspace_id,
        agent_id=agent.public_id,
        visitor_id=party.visitor_id,
        ip=ip,
    )
    if action is not None:
        return MessageSending(received=None, refusal=action)
    received = message_store(
        agent=agent, party=party, client_id=client_id, text=text, origin=origin, page_url=page_url
    )
    return MessageSending(received=received)


@dataclass(frozen=True)
class Replay:
    conversation: Conversation
    messages: list[Message]
    has_more: bool


def visitor_replay(*, agent: Agent, party: Party, after: str | None) -> Replay | None:
    """The first page of what the visitor missed after message `after` (None: there is no
    open conversation); a long gap's further pages come from `messages_after`."""
    conversation = conversation_current(agent_id=agent.pk, owner_key=party.owner_key)
    if conversation is None:
        return None
    rows, has_more = messages_after(conversation=conversation, after=after)
    return Replay(conversation=conversation, messages=rows, has_more=has_more)
