"""Recording widget events and rolling them up."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count

from analytics.models import DailyEventCount, WidgetEvent
from security.errors import InvalidRequest, PayloadTooLarge

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_.:-]{0,39}$")
MAX_EVENTS_PER_BATCH = 50
MAX_METADATA_BYTES = 2048


@dataclass(frozen=True)
class EventSource:
    workspace_id: int
    agent_id: str
    domain: str
    session_id: str
    customer_id: str | None = None


def events_validate(raw: object) -> list[tuple[str, dict[str, Any] | None]]:
    """Check a batch from the widget; a bad event rejects the batch with a clear reason."""
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("'events' must be a non-empty list.")
    if len(raw) > MAX_EVENTS_PER_BATCH:
        raise PayloadTooLarge(f"At most {MAX_EVENTS_PER_BATCH} events per batch.")
    events: list[tuple[str, dict[str, Any] | None]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidRequest(f"events[{index}] must be an object.")
        name = item.get("type")
        if not isinstance(name, str) or not EVENT_NAME.match(name):
            raise InvalidRequest(f"events[{index}].type must be a short lower-case name.")
        metadata = item.get("metadata")
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise InvalidRequest(f"events[{index}].metadata must be an object.")
            if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
                raise PayloadTooLarge(f"events[{index}].metadata is too large.")
        events.append((name, metadata))
    return events


def events_record(*, source: EventSource, events: list[tuple[str, dict[str, Any] | None]]) -> int:
    rows = [
        WidgetEvent(
            workspace_id=source.workspace_id,
            agent_id=source.agent_id,
            domain=source.domain[:255],
            event=name,
            session_id=source.session_id[:64],
            customer_id=source.customer_id,
            metadata=metadata,
        )
        for name, metadata in events
    ]
    WidgetEvent.objects.bulk_create(rows)
    return len(rows)


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
