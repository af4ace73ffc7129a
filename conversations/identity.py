"""A session's identity: verify what the page sent, enforce the agent's rule, link history.

Used by the session endpoint and by `POST /api/v2/widget/customer` (the page's
`identify()` after load), so both apply exactly the same rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypedDict

from django.db import IntegrityError, transaction

from agents.models import Agent
from conversations.models import Conversation, Message
from conversations.parties import Party
from conversations.selectors import conversation_current
from core.errors import InvalidCustomerToken
from customers.identity import SIGNED_IN_ONLY, Identity, identity_satisfied, identity_verify
from customers.models import Customer
from customers.profiles import customer_resolve
from customers.sessions import conversation_owner_key
from customers.visitors import ProvenVisitorId
from webhooks.events import webhook_event_emit
from widgets.delivery.snapshots import WidgetSnapshot

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionIdentity:
    party: Party
    customer: Customer | None
    identity: Identity | None


def session_identify(
    *, agent: Agent | WidgetSnapshot, visitor_id: ProvenVisitorId, data: dict[str, Any]
) -> SessionIdentity:
    """Who this browser's session speaks for, from `customerToken` / `userHash` / `customer`.

    Refuses (401 invalid_customer_token) a token or hash that fails, and anything short of
    a verified customer when the agent requires one. A newly verified customer takes over
    the browser's conversations (conversation_link_customer): only a visitor the browser
    proved (its visitor secret, or a session token), never an id it merely names.
    """
    identity = identity_verify(
        agent_pk=agent.pk,
        agent_public_id=agent.public_id,
        customer_token=data.get("customerToken"),
        user_hash=data.get("userHash"),
        customer=data.get("customer"),
    )
    verified = identity is not None and identity.verified
    if not identity_satisfied(required=agent.identity_required, verified=verified):
        logger.info("unverified visitor refused by %s (identity required)", agent.public_id)
        raise InvalidCustomerToken(
            f"{SIGNED_IN_ONLY}: the site must send customerToken or userHash."
        )
    if identity is None:
        return SessionIdentity(party=Party(visitor_id=visitor_id), customer=None, identity=None)
    customer = customer_resolve(
        workspace_id=agent.workspace_id, identity=identity, on_created=_customer_event
    )
    party = Party(visitor_id=visitor_id, customer_id=customer.pk, verified=identity.verified)
    if identity.verified:
        conversation_link_customer(agent=agent, visitor_id=visitor_id, customer=customer)
    return SessionIdentity(party=party, customer=customer, identity=identity)


def _customer_event(customer: Customer) -> None:
    """A customer seen for the first time, to the workspace's webhooks."""
    kind = "customer.verified" if customer.is_verified else "customer.identified"
    webhook_event_emit(
        workspace_id=customer.workspace_id,
        event_type=kind,
        data=lambda: {"customer": customer_out(customer)},
    )


def conversation_link_customer(
    *, agent: Agent | WidgetSnapshot, visitor_id: ProvenVisitorId, customer: Customer
) -> None:
    """The browser's own conversations (not another customer's) join the verified customer.

    `visitor_id` must be one this browser proved: the customer token proves who the
    customer is, not whose browser this is, so a public visitor id is never enough.

    If the customer already has an open conversation (another device), the browser's open
    one is merged into it, so they keep one thread.
    """
    browser_key = conversation_owner_key(visitor_id=visitor_id, customer_id=None)
    owner_key = conversation_owner_key(
        visitor_id=visitor_id, customer_id=customer.pk, verified=True
    )
    with transaction.atomic():
        browser_open = conversation_current(agent_id=agent.pk, owner_key=browser_key)
        theirs = conversation_current(agent_id=agent.pk, owner_key=owner_key)
        if browser_open is not None and theirs is not None:
            _merge(browser_open, into=theirs)
        linked = Conversation.objects.filter(agent_id=agent.pk, owner_key=browser_key).update(
            owner_key=owner_key, customer=customer
        )
    if linked:
        logger.info("%d conversation(s) of %s joined customer %s", linked, visitor_id, customer.pk)


def _merge(source: Conversation, *, into: Conversation) -> None:
    try:
        with transaction.atomic():
            Message.objects.filter(conversation=source).update(conversation=into)
    except IntegrityError:  # the same client id in both: keep them apart, close the older
        logger.warning("could not merge %s into %s; resolving it", source, into)
        Conversation.objects.filter(pk=source.pk).update(status=Conversation.Status.RESOLVED)
        return
    last = into.messages.order_by("-id").values_list("created_at", flat=True).first()
    Conversation.objects.filter(pk=into.pk).update(last_message_at=last)
    source.delete()


class CustomerOut(TypedDict):
    id: str  # the site's own id for them
    verified: bool
    email: str
    name: str


def customer_out(customer: Customer | None) -> CustomerOut | None:
    """The customer as their own page (the widget) and the staff inbox see them."""
    if customer is None:
        return None
    return {
        "id": customer.external_id,
        "verified": customer.is_verified,
        "email": customer.email,
        "name": customer.name,
    }
