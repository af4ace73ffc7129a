"""Widget errors grouped by code and message, kept up to date from the raw 'error' events.

Incremental: each run counts the error events received since the newest one already
counted (the largest `last_seen`), up to a minute ago so that batches still being
written are left for the next run. The cursor lives in the groups themselves, so a lost
cache or a restarted worker neither skips nor double-counts anything.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Min
from django.db.models.fields.json import KT
from django.utils import timezone

from analytics.models import WidgetErrorGroup, WidgetEvent
from analytics.stored_text import events_read_repairing

SETTLE = timedelta(minutes=1)
LOCK_KEY = "monitoring:error-groups-lock"
LOCK_SECONDS = 300
MAX_CODE = 60
MAX_MESSAGE = 500

# Parts of a message that vary between occurrences of the same error.
_VARIABLE_PARTS = [
    (re.compile(r"https?://\S+"), "<url>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"\b(?:[a-z]{3}_)[A-Za-z0-9]{6,}\b"), "<id>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<n>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def message_normalize(message: str) -> str:
    """The message with ids, numbers and URLs replaced, so occurrences group together."""
    text = message.strip()
    for pattern, replacement in _VARIABLE_PARTS:
        text = pattern.sub(replacement, text)
    return text[:MAX_MESSAGE]


def error_fingerprint(code: str, message: str) -> str:
    return hashlib.sha256(f"{code}\n{message_normalize(message)}".encode()).hexdigest()


@dataclass
class _Tally:
    workspace_id: int
    code: str
    message: str
    count: int
    first_seen: datetime
    last_seen: datetime


def error_groups_update(*, now: datetime | None = None) -> int:
    """Fold newly received error events into their groups; returns how many were counted.

    A run that finds another still going does nothing (the next one catches up).
    """
    if not cache.add(LOCK_KEY, "1", LOCK_SECONDS):
        return 0
    try:
        return _update(until=(now or timezone.now()) - SETTLE)
    finally:
        cache.delete(LOCK_KEY)


def _update(*, until: datetime) -> int:
    since = WidgetErrorGroup.objects.aggregate(cursor=Max("last_seen"))["cursor"]
    events = WidgetEvent.objects.filter(event="error", created_at__lte=until)
    if since is not None:
        events = events.filter(created_at__gt=since)
    grouped = (
        events.values("workspace_id", "agent_id")
        .annotate(
            code=KT("metadata__code"),
            message=KT("metadata__message"),
            n=Count("id"),
            first=Min("created_at"),
            last=Max("created_at"),
        )
        .order_by()
    )
    # One stored event with undecodable text must not stop the grouping of all the others.
    rows = events_read_repairing(lambda: list(grouped.all()), events=events, task="error grouping")
    tallies: dict[tuple[str, str], _Tally] = {}
    for row in rows:
        code = str(row["code"] or "unknown")[:MAX_CODE]
        message = str(row["message"] or "")
        key = (row["agent_id"], error_fingerprint(code, message))
        tally = tallies.get(key)
        if tally is None:
            tallies[key] = _Tally(
                row["workspace_id"],
                code,
                message[:MAX_MESSAGE],
                row["n"],
                row["first"],
                row["last"],
            )
            continue
        tally.count += row["n"]
        tally.first_seen = min(tally.first_seen, row["first"])
        tally.last_seen = max(tally.last_seen, row["last"])
    if tallies:
        _merge(tallies)
    return sum(t.count for t in tallies.values())


@transaction.atomic
def _merge(tallies: dict[tuple[str, str], _Tally]) -> None:
    existing = {
        (group.agent_id, group.fingerprint): group
        for group in WidgetErrorGroup.objects.select_for_update().filter(
            agent_id__in={agent for agent, _ in tallies},
            fingerprint__in={fingerprint for _, fingerprint in tallies},
        )
    }
    created: list[WidgetErrorGroup] = []
    for (agent_id, fingerprint), tally in tallies.items():
        group = existing.get((agent_id, fingerprint))
        if group is None:
            created.append(
                WidgetErrorGroup(
                    workspace_id=tally.workspace_id,
                    agent_id=agent_id,
                    fingerprint=fingerprint,
                    code=tally.code,
                    message=tally.message,
                    count=tally.count,
                    first_seen=tally.first_seen,
                    last_seen=tally.last_seen,
                )
            )
            continue
        group.count += tally.count
        group.first_seen = min(group.first_seen, tally.first_seen)
        group.last_seen = max(group.last_seen, tally.last_seen)
        group.save(update_fields=["count", "first_seen", "last_seen"])
    WidgetErrorGroup.objects.bulk_create(created)
