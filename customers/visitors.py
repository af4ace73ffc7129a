"""A browser's visitor id, and the visitor secret that proves the browser holds it.

The visitor id (`vis_…`) is a label: staff see it in the inbox and the REST API returns
it, so it proves nothing. The session endpoint hands the browser a visitor secret with
it, an HMAC of the agent and visitor id under a key derived from SECRET_KEY: nothing to
store, it survives restarts, and SECRET_KEY_FALLBACKS keep old secrets valid while a new
key rolls out. An id presented without its secret starts a new visitor; it never reaches
the conversations of the visitor it names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NewType

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from security.ids import is_public_id, new_visitor_id

logger = logging.getLogger("customeragent.security")

# A visitor id this browser proved: minted for it now, presented with its visitor secret,
# or read from a session token we signed. Only these may reach a visitor's conversations.
ProvenVisitorId = NewType("ProvenVisitorId", str)

# Its own purpose salt: no other HMAC under SECRET_KEY can pass as a visitor secret.
HMAC_PURPOSE = "customeragent.visitor-secret"
MAX_VISITOR_SECRET_LENGTH = 128


@dataclass(frozen=True)
class BrowserVisitor:
    visitor_id: ProvenVisitorId
    secret: str  # for the browser to keep with the id (under the current SECRET_KEY)


def _secret_under(key: str, *, agent_public_id: str, visitor_id: str) -> str:
    return salted_hmac(
        HMAC_PURPOSE, f"{agent_public_id}:{visitor_id}", secret=key, algorithm="sha256"
    ).hexdigest()


def visitor_secret_for(*, agent_public_id: str, visitor_id: str) -> str:
    """The secret that proves `visitor_id` of this agent (under the current SECRET_KEY)."""
    return _secret_under(
        settings.SECRET_KEY, agent_public_id=agent_public_id, visitor_id=visitor_id
    )


def visitor_secret_valid(*, agent_public_id: str, visitor_id: str, secret: str) -> bool:
    """Whether `secret` proves `visitor_id`, under SECRET_KEY or one of its fallbacks."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return any(
        constant_time_compare(
            secret, _secret_under(key, agent_public_id=agent_public_id, visitor_id=visitor_id)
        )
        for key in keys
    )


def visitor_resolve(
    *, agent_public_id: str, candidate: str | None, secret: str | None
) -> BrowserVisitor:
    """The visitor the widget remembered, if it proved it with the secret; else a new one.

    Not an error: a browser that lost its secret (or never had one, before secrets
    existed) simply starts afresh. Someone else's id is logged as the attempt it may be.
    """
    if candidate and is_public_id(candidate, "vis"):
        if secret and visitor_secret_valid(
            agent_public_id=agent_public_id, visitor_id=candidate, secret=secret
        ):
            return BrowserVisitor(
                visitor_id=ProvenVisitorId(candidate),
                secret=visitor_secret_for(agent_public_id=agent_public_id, visitor_id=candidate),
            )
        logger.warning(
            "visitor %s of %s presented %s; starting a new visitor",
            candidate,
            agent_public_id,
            "a wrong visitor secret" if secret else "no visitor secret",
        )
    visitor_id = new_visitor_id()
    return BrowserVisitor(
        visitor_id=ProvenVisitorId(visitor_id),
        secret=visitor_secret_for(agent_public_id=agent_public_id, visitor_id=visitor_id),
    )
