"""Recording analytics events: the widget's batches and the services' own events.

Every event is stored once: the widget gives each event a random id and a retried batch
is inserted with `ON CONFLICT DO NOTHING` on (agent, event id); the platform's own events
use ids derived from what caused them ("srv:…", a form no widget id can take).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from analytics.models import DailyEventCount, WidgetEvent
from core.errors import InvalidRequest, PayloadTooLarge

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_.:-]{0,39}$")
EVENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_EVENTS_PER_BATCH = 50
MAX_METADATA_BYTES = 2048
MAX_TS_LENGTH = 40
# A visitor's clock may be wrong; an event is never dated in the future, nor more than this
# before it reached us (a tab asleep overnight still counts, last month's does not).
MAX_EVENT_AGE = timedelta(hours=24)
# Recorded by the platform itself; a widget batch claiming one would skew the metrics.
SERVER_EVENTS = frozenset(
    {"conversation_started", "message_answered", "handed_off", "resolved", "csat"}
)
PRUNE_BATCH = 10_000


@dataclass(frozen=True)
class EventSource:
    """Who an event is about: stored by id, never as a reference to another app's row."""

    workspace_id: int
    agent_id: str
    domain: str
    session_id: str
    customer_id: str | None = None
    # "<experiment key>:<variant key>" when the visitor is in an experiment.
    variant: str = ""


@dataclass(frozen=True)
class EventIn:
    """One event to store. Without `occurred_at` it happened now; without `event_id` it is
    not deduplicated."""

    name: str
    metadata: dict[str, Any] | None = None
    event_id: str | None = None
    occurred_at: datetime | None = None


def events_validate(raw: object, *, received_at: datetime | None = None) -> list[EventIn]:
    """Check a batch from the widget; one bad event refuses the batch with a clear reason.

    Each item is `{id?, type, ts?, metadata?}`; `ts` (ISO 8601 with a zone) is clamped to
    [received - 24 h, received].
    """
    received_at = received_at or timezone.now()
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("'events' must be a non-empty list.")
    if len(raw) > MAX_EVENTS_PER_BATCH:
        raise PayloadTooLarge(f"At most {MAX_EVENTS_PER_BATCH} events per batch.")
    events: list[EventIn] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidRequest(f"events[{index}] must be an object.")
        events.append(_event_validate(index, item, received_at))
    return events


def _event_validate(index: int, item: dict[str, Any], received_at: datetime) -> EventIn:
    name = item.get("type")
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        raise InvalidRequest(f"events[{index}].type must be a short lower-case name.")
    if name in SERVER_EVENTS:
        raise InvalidRequest(f"events[{index}].type {name!r} is recorded by the platform.")
    event_id = item.get("id")
    if event_id is not None and (not isinstance(event_id, str) or not EVENT_ID.match(event_id)):
        raise InvalidRequest(f"events[{index}].id must be 8-64 letters, digits, '-' or '_'.")
    metadata = item.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise InvalidRequest(f"events[{index}].metadata must be an object.")
        if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
            raise PayloadTooLarge(f"events[{index}].metadata is too large.")
        duration = metadata.get("ms")
        if name == "load" and duration is not None and not _is_duration(duration):
            raise InvalidRequest(f"events[{index}].metadata.ms must be milliseconds (>= 0).")
    return EventIn(
        name=name,
        metadata=metadata,
        event_id=event_id,
        occurred_at=_occurred_at(index, item.get("ts"), received_at),
    )


def _is_duration(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _occurred_at(index: int, ts: object, received_at: datetime) -> datetime:
    if ts is None:
        return received_at
    if not isinstance(ts, str) or len(ts) > MAX_TS_LENGTH:
        raise InvalidRequest(f"events[{index}].ts must be an ISO 8601 date-time.")
    try:
        moment = datetime.fromisoformat(ts)
    except ValueError:
        raise InvalidRequest(f"events[{index}].ts must be an ISO 8601 date-time.") from None
    if moment.tzinfo is None:
        raise InvalidRequest(f"events[{index}].ts needs a time zone (e.g. 'Z').")
    return min(max(moment, received_at - MAX_EVENT_AGE), received_at)


def events_record(
    *, source: EventSource, events: Sequence[EventIn | tuple[str, dict[str, Any] | None]]
) -> int:
    """Store events in one insert; those whose id is already stored are skipped.

    `(name, metadata)` pairs are accepted for the services' own events. Returns how many
    events were given (a retried batch is accepted again, and stored once).
    """
    now = timezone.now()
    rows = []
    for event in events:
        item = event if isinstance(event, EventIn) else EventIn(name=event[0], metadata=event[1])
        rows.append(
            WidgetEvent(
                workspace_id=source.workspace_id,
                agent_id=source.agent_id,
                domain=source.domain[:255],
                event=item.name,
                session_id=source.session_id[:64],
                customer_id=source.customer_id,
                variant=source.variant[:81],
                metadata=item.metadata,
                event_id=item.event_id,
                occurred_at=item.occurred_at or now,
            )
        )
    WidgetEvent.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def events_prune(*, older_than_days: int | None = None) -> int:
    """Delete raw events received more than the retention period ago, in batches (so no
    single statement holds a long lock). The roll-ups stay."""
    days = older_than_days if older_than_days is not None else settings.ANALYTICS_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            WidgetEvent.objects.filter(created_at__lt=cutoff)
            .order_by()
            .values_list("id", flat=True)[:PRUNE_BATCH]
        )
        if not ids:
            return deleted
        deleted += WidgetEvent.objects.filter(id__in=ids).delete()[0]


@transaction.atomic
def daily_counts_compute(*, day: date) -> int:
    """Recount one UTC day from raw events, replacing that day's rows (idempotent)."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    counts = (
        WidgetEvent.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("workspace_id", "agent_id", "event")
        .annotate(n=Count("id"))
        .order_by()
    )
    DailyEventCount.objects.filter(day=day).delete()
    rows = [
        DailyEventCount(
            workspace_id=row["workspace_id"],
            agent_id=row["agent_id"],
            event=row["event"],
            day=day,
            count=row["n"],
        )
        for row in counts
    ]
    DailyEventCount.objects.bulk_create(rows)
    return len(rows)
