"""The Deploy panel's installation check: where the widget loaded, where it was refused
and why, and the fixes a person can make from there.

Services record refusals where they happen (the session endpoint, the core redirect, the
websocket, the events endpoint) as one counted row per agent, origin and reason, at most
`MAX_REFUSALS_PER_AGENT` of them per agent. Loads come from the widget's own `load`
analytics events (analytics.WidgetEvent), which land only after a session was granted.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Sum
from django.utils import timezone
from django.utils.timesince import timesince

from agents.models import Agent
from analytics.models import MetricsBucket, WidgetEvent
from core.errors import InvalidRequest
from security.domains import (
    ANY_HOST,
    DEFAULT_PORTS,
    normalize_host,
    origin_allowed,
    parse_origin,
    parse_pattern,
)
from widgets.drafts import widget_draft_update
from widgets.models import InstallationRefusal, WidgetConfig
from widgets.selectors import WidgetAccess, widget_access_for

logger = logging.getLogger("customeragent.security")

Reason = InstallationRefusal.Reason
MAX_REFUSALS_PER_AGENT = 200
# Unthrottled public hooks (the cached core redirect, the websocket) write at most once
# per origin in this many seconds; the session endpoint, rate-limited, counts every refusal.
NOTE_DEBOUNCE_SECONDS = 10
LOAD_WINDOW = timedelta(days=30)
RAW_WINDOW = timedelta(hours=24)  # older loads are read from the hourly roll-ups
STALE_AFTER = timedelta(days=7)
MAX_REFUSALS_SHOWN = 50


def _platform_host() -> str:
    return (urlsplit(settings.PUBLIC_BASE_URL).hostname or "").lower()


def _canonical_origin(origin: str) -> tuple[str, str] | None:
    """(scheme://host[:port], host) for a browser Origin, or None (absent, null, foreign
    to any site: the platform's own pages)."""
    parsed = parse_origin(origin)
    if parsed is None or parsed.host == _platform_host():
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
    if entry is None or entry == _platform_host():
        raise InvalidRequest(f"{host[:80]!r} is not a host a site can be served from.")
    config = WidgetConfig.objects.filter(agent=agent).first()
    domains = list(config.allowed_domains) if config else []
    if not any(_pattern_covers(pattern, entry) for pattern in domains):
        widget_draft_update(agent=agent, values={"allowedDomains": [*domains, entry]}, by=by)
    return entry


# --- Selectors: what the panel shows -------------------------------------------------


def ago(moment: datetime | None, now: datetime) -> str:
    """ "2 minutes ago", "just now" or "never"."""
    if moment is None:
        return "never"
    if (now - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"


@dataclass(frozen=True)
class HostSeen:
    host: str
    last_load_at: datetime
    loads: int
    ago: str


@dataclass
class DomainStatus:
    pattern: str
    status: str  # ok (green), waiting / stale (amber), off (red)
    sentence: str
    hosts: list[HostSeen] = field(default_factory=list)
    last_load_at: datetime | None = None
    ago: str = "never"


@dataclass(frozen=True)
class RefusalStatus:
    origin: str
    host: str
    reason: str
    detail: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime
    ago: str
    status: str  # refused (red) or fixed (amber: fixed, waiting for the next load)
    sentence: str
    allow_host: str  # the host a manager can allow in one click, or ""


@dataclass(frozen=True)
class InstallationStatus:
    agent_active: bool
    identity_required: bool
    domains: list[DomainStatus]
    refusals: list[RefusalStatus]
    other_hosts: list[HostSeen]  # loads from hosts no current entry covers
    checked_at: datetime


def _pattern_covers(entry: str, host: str) -> bool:
    """Whether an allowed-domains entry covers `host`, whatever the scheme and port (the
    analytics events keep the host only)."""
    pattern = parse_pattern(entry)
    if pattern is None:
        return False
    if pattern.host == ANY_HOST:
        return True
    if pattern.wildcard:
        return host.endswith("." + pattern.host)
    return host == pattern.host


def installation_loads(agent: Agent, *, now: datetime | None = None) -> list[HostSeen]:
    """The hosts the widget loaded on in the last 30 days (its `load` events), newest first.

    The last day comes from the raw events (exact to the second); older days from the
    hourly roll-ups (to the hour), so a busy site's millions of events are never scanned.
    """
    now = now or timezone.now()
    cutoff = (now - RAW_WINDOW).replace(minute=0, second=0, microsecond=0)
    platform = _platform_host()
    seen: dict[str, tuple[datetime, int]] = {}
    hours = (
        MetricsBucket.objects.filter(
            agent_id=agent.public_id,
            grain=MetricsBucket.Grain.HOUR,
            start__gte=now - LOAD_WINDOW,
            start__lt=cutoff,
            loads__gt=0,
        )
        .values("domain")
        .annotate(last=Max("start"), loads=Sum("loads"))
    )
    for row in hours:
        seen[row["domain"]] = (row["last"], row["loads"])
    recent = (
        WidgetEvent.objects.filter(agent_id=agent.public_id, event="load", created_at__gte=cutoff)
        .values("domain")
        .annotate(last=Max("created_at"), loads=Count("id"))
    )
    for row in recent:
        _, before = seen.get(row["domain"], (row["last"], 0))
        seen[row["domain"]] = (row["last"], before + row["loads"])
    hosts = [
        HostSeen(host=host, last_load_at=last, loads=loads, ago=ago(last, now))
        for host, (last, loads) in seen.items()
        if host and host != platform
    ]
    return sorted(hosts, key=lambda h: h.last_load_at, reverse=True)


def _domain_status(
    entry: str, hosts: list[HostSeen], *, active: bool, now: datetime
) -> DomainStatus:
    mine = [h for h in hosts if _pattern_covers(entry, h.host)]
    last = max((h.last_load_at for h in mine), default=None)
    row = DomainStatus(
        pattern=entry, status="ok", sentence="", hosts=mine, last_load_at=last, ago=ago(last, now)
    )
    shown = entry.split("://")[-1]
    if not active:
        row.status, row.sentence = "off", "agent switched off: visitors see no widget anywhere"
    elif entry.strip() == ANY_HOST:
        row.status = "stale"
        row.sentence = "any website may embed this agent: list your sites' hosts instead"
    elif last is None:
        where = f"any subdomain of {shown[2:]}" if shown.startswith("*.") else shown
        row.status = "waiting"
        row.sentence = f"no load yet: open the chat on a page of {where} that has the snippet"
    elif now - last > STALE_AFTER:
        row.status = "stale"
        row.sentence = f"no load for {(now - last).days} days: is the snippet still on {shown}?"
    else:
        where = ", ".join(h.host for h in mine[:3])
        row.sentence = f"the widget loads on {where}"
    return row


def refusal_sentence(reason: str, host: str, detail: str = "") -> str:
    """What went wrong, said so that the fix is in the sentence."""
    if reason == Reason.ORIGIN_NOT_ALLOWED:
        return f"origin not allowed: add {host}"
    if reason == Reason.AGENT_INACTIVE:
        return "agent switched off: tick Active on the agent's page"
    if detail == "no_token":
        return "verified customers only: the page sent no customerToken or userHash"
    return f"verified customers only: the customer's token was refused ({detail or 'invalid'})"


def _refusal_status(
    row: InstallationRefusal,
    *,
    agent: Agent,
    domains: list[str],
    hosts: list[HostSeen],
    now: datetime,
) -> RefusalStatus | None:
    fixed = {
        Reason.ORIGIN_NOT_ALLOWED: origin_allowed(row.origin, domains),
        Reason.AGENT_INACTIVE: agent.is_active,
        Reason.IDENTITY_REQUIRED: not agent.identity_required,
    }.get(Reason(row.reason), False)
    loaded_since = any(h.host == row.host and h.last_load_at > row.last_seen_at for h in hosts)
    if fixed and loaded_since:
        return None  # fixed, and the widget has loaded there since: nothing left to say
    sentence = refusal_sentence(row.reason, row.host, row.detail)
    if fixed:
        sentence = f"fixed ({sentence}): reload a page of {row.host} to check"
    allow = row.host if row.reason == Reason.ORIGIN_NOT_ALLOWED and not fixed else ""
    return RefusalStatus(
        origin=row.origin,
        host=row.host,
        reason=row.reason,
        detail=row.detail,
        count=row.count,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        ago=ago(row.last_seen_at, now),
        status="fixed" if fixed else "refused",
        sentence=sentence,
        allow_host=allow,
    )


def installation_status(agent: Agent, *, now: datetime | None = None) -> InstallationStatus:
    """The installation check: per allowed domain its loads, then every recent refusal."""
    now = now or timezone.now()
    agent = Agent.objects.get(pk=agent.pk)  # fresh: is_active and identity_required move
    config = WidgetConfig.objects.filter(agent=agent).first()
    domains = list(config.allowed_domains) if config else []
    hosts = installation_loads(agent, now=now)
    rows = InstallationRefusal.objects.filter(
        agent=agent, last_seen_at__gte=now - LOAD_WINDOW
    ).order_by("-last_seen_at")[:MAX_REFUSALS_SHOWN]
    refusals = [
        status
        for row in rows
        if (status := _refusal_status(row, agent=agent, domains=domains, hosts=hosts, now=now))
    ]
    return InstallationStatus(
        agent_active=agent.is_active,
        identity_required=agent.identity_required,
        domains=[
            _domain_status(entry, hosts, active=agent.is_active, now=now) for entry in domains
        ],
        refusals=refusals,
        other_hosts=[h for h in hosts if not any(_pattern_covers(e, h.host) for e in domains)],
        checked_at=now,
    )
