"""The Deploy panel's installation check: where the widget loaded, where it was refused
and why (widgets.installation.refusals records the refusals). Loads come from the widget's
own `load` analytics events (analytics.WidgetEvent), which land only after a session was
granted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.timesince import timesince

from agents.models import Agent
from analytics.models import MetricsBucket, WidgetEvent
from security.domains import (
    ANY_HOST,
    origin_allowed,
)
from widgets.installation.hosts import pattern_covers, platform_host
from widgets.models import InstallationRefusal, WidgetConfig

Reason = InstallationRefusal.Reason
LOAD_WINDOW = timedelta(days=30)
RAW_WINDOW = timedelta(hours=24)  # older loads are read from the hourly roll-ups
STALE_AFTER = timedelta(days=7)
MAX_REFUSALS_SHOWN = 50


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


def installation_loads(agent: Agent, *, now: datetime | None = None) -> list[HostSeen]:
    """The hosts the widget loaded on in the last 30 days (its `load` events), newest first.

    The last day comes from the raw events (exact to the second); older days from the
    hourly roll-ups (to the hour), so a busy site's millions of events are never scanned.
    """
    now = now or timezone.now()
    cutoff = (now - RAW_WINDOW).replace(minute=0, second=0, microsecond=0)
    platform = platform_host()
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
    mine = [h for h in hosts if pattern_covers(entry, h.host)]
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
        other_hosts=[h for h in hosts if not any(pattern_covers(e, h.host) for e in domains)],
        checked_at=now,
    )
