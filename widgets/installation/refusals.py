"""The installation check's records: refusals counted where they happen, and the fixes a
person makes from the Deploy panel.

Services record refusals where they happen (the session endpoint, the core redirect, the
websocket, the events endpoint) as one counted row per agent, origin and reason, at most
`MAX_REFUSALS_PER_AGENT` of them per agent.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agents.models import Agent
from core.errors import InvalidRequest
from security.domains import (
    DEFAULT_PORTS,
    normalize_host,
    origin_allowed,
    parse_origin,
)
from widgets.installation.hosts import pattern_covers, platform_host
from widgets.models import InstallationRefusal, WidgetConfig
from widgets.publishing.drafts import widget_draft_update
from widgets.selectors import WidgetAccess, widget_access_for

logger = logging.getLogger("customeragent.security")

Reason = InstallationRefusal.Reason
MAX_REFUSALS_PER_AGENT = 200
# Unthrottled public hooks (the cached core redirect, the websocket) write at most once
# per origin in this many seconds; the session endpoint, rate-limited, counts every refusal.
NOTE_DEBOUNCE_SECONDS = 10


def _canonical_origin(origin: str) -> tuple[str, str] | None:
    """(scheme://host[:port], host) for a browser Origin, or None (absent, null, foreign
    to any site: the platform's own pages)."""
    parsed = parse_origin(origin)
    if parsed is None or parsed.host == platform_host():
        return None
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = "" if DEFAULT_PORTS[parsed.scheme] == parsed.port else f":{parsed.port}"
    return f"{parsed.scheme}://{host}{port}", parsed.host


# --- Services: record what happened --------------------------------------------------


def installation_refusal_record(
    *, agent_pk: int, origin: str, reason: str, detail: str = ""
) -> bool:
    """Count one refusal of `agent_pk`'s widget on `origin` (an atomic upsert).

    Requests without a usable Origin (servers, the platform's own pages) are not recorded;
    nor is a new origin once the agent has `MAX_REFUSALS_PER_AGENT` rows. True if counted.
    """
    canonical = _canonical_origin(origin)
    if canonical is None:
        return False
    origin_text, host = canonical
    now = timezone.now()
    rows = InstallationRefusal.objects.filter(agent_id=agent_pk, origin=origin_text, reason=reason)
    changes: dict[str, Any] = {"count": F("count") + 1, "last_seen_at": now, "detail": detail[:200]}
    if rows.update(**changes):
        return True
    if InstallationRefusal.objects.filter(agent_id=agent_pk).count() >= MAX_REFUSALS_PER_AGENT:
        logger.warning("installation check full for agent %s: %s not recorded", agent_pk, origin)
        return False
    try:
        with transaction.atomic():
            InstallationRefusal.objects.create(
                agent_id=agent_pk,
                origin=origin_text,
                host=host,
                reason=reason,
                detail=detail[:200],
                first_seen_at=now,
                last_seen_at=now,
            )
    except IntegrityError:  # a concurrent refusal created it first
        rows.update(**changes)
    logger.info("widget of agent %s refused on %s: %s %s", agent_pk, origin_text, reason, detail)
    return True


def _debounced(agent_public_id: str, origin: str) -> bool:
    key = hashlib.sha256(f"{agent_public_id}|{origin}".encode()).hexdigest()[:24]
    return not cache.add(f"install:note:{key}", 1, NOTE_DEBOUNCE_SECONDS)


def installation_origin_note(
    *,
    agent_public_id: str,
    origin: str,
    debounce: bool = True,
    access: WidgetAccess | None = None,
) -> bool:
    """Record `origin_not_allowed` when an active agent's allowed domains do not cover
    `origin`. The allowed case costs no query: callers that looked up the agent's access
    rules already pass them (`access`), else they are read from the cache."""
    access = access or widget_access_for(agent_public_id)
    if access is None or not origin or origin_allowed(origin, access.allowed_domains):
        return False
    if _canonical_origin(origin) is None or (debounce and _debounced(agent_public_id, origin)):
        return False
    agent_pk = Agent.objects.filter(public_id=agent_public_id).values_list("pk", flat=True).first()
    if agent_pk is None:
        return False
    return installation_refusal_record(
        agent_pk=agent_pk, origin=origin, reason=Reason.ORIGIN_NOT_ALLOWED
    )


def installation_inactive_note(*, agent_public_id: str, origin: str) -> bool:
    """Record `agent_inactive` when `agent_public_id` names an agent that is switched off
    (an unknown id records nothing)."""
    if _canonical_origin(origin) is None:
        return False
    agent_pk = (
        Agent.objects.filter(public_id=agent_public_id, is_active=False)
        .values_list("pk", flat=True)
        .first()
    )
    if agent_pk is None:
        return False
    return installation_refusal_record(
        agent_pk=agent_pk, origin=origin, reason=Reason.AGENT_INACTIVE
    )


def installation_identity_note(
    *, agent: Agent | WidgetAccess, origin: str, error: BaseException
) -> bool:
    """Record `identity_required` for an agent that requires verified customers, with the
    token's reason code (`expired`, `bad_signature`, …) or `no_token` as the detail."""
    if not agent.identity_required:
        return False
    reason_code = getattr(error.__context__, "reason", None)
    detail = reason_code if isinstance(reason_code, str) else "no_token"
    return installation_refusal_record(
        agent_pk=agent.pk, origin=origin, reason=Reason.IDENTITY_REQUIRED, detail=detail
    )


def installation_host_allow(*, agent: Agent, host: str, by: Any = None) -> str:
    """Add `host` to the agent's allowed domains, unless an entry already covers it.
    Returns the entry; raises InvalidRequest for something that is not a host."""
    entry = normalize_host(host)
    if entry is None or entry == platform_host():
        raise InvalidRequest(f"{host[:80]!r} is not a host a site can be served from.")
    config = WidgetConfig.objects.filter(agent=agent).first()
    domains = list(config.allowed_domains) if config else []
    if not any(pattern_covers(pattern, entry) for pattern in domains):
        widget_draft_update(agent=agent, values={"allowedDomains": [*domains, entry]}, by=by)
    return entry
