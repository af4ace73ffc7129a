"""Roll-ups: raw events into MetricsBucket rows per agent, domain, variant, hour and day.

A bucket is always recomputed whole from the raw events of its hour (a day: from its
hours, plus distinct visitors from the day's events) and written in place, so running any
window twice gives the same rows, and a late event lands in the bucket of its
`occurred_at` the next time that hour is recomputed.

The incremental run (`rollup_incremental`, every few minutes from Celery beat) finds the
hours touched by events *received* since its last run — a watermark on `created_at` kept
in the cache, read back with a small overlap so an event whose transaction committed late
is not missed — adds the current hour, and recomputes those hours and their days.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from analytics.histograms import BIN_COUNT, histogram_bin, histogram_merge
from analytics.models import MetricsBucket, WidgetEvent
from analytics.stored_text import events_read_repairing

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WATERMARK_KEY = "analytics:rollup:watermark"
# Re-read this much before the watermark: an event stamped before the last run may have
# committed after it.
OVERLAP = timedelta(minutes=5)
# Without a watermark or any bucket: the events received in the last day (late events
# are at most 24 h old, so this covers every hour a recent event can touch).
FIRST_RUN_LOOKBACK = timedelta(hours=25)

# Counted per bucket: field -> which events.
COUNTED: dict[str, Q] = {
    "loads": Q(event="load"),
    "opens": Q(event="open"),
    "conversations": Q(event="conversation_started"),
    "customer_messages": Q(event="message"),
    "agent_messages": Q(event="message_answered"),
    "handoffs": Q(event="handed_off"),
    "resolved_bot": Q(event="resolved", metadata__by="bot"),
    "resolved_human": Q(event="resolved", metadata__by="human"),
    "errors": Q(event="error"),
}
# Durations (metadata.ms) per event -> the histogram they go into.
MEASURED = {"load": "load_time_hist", "message_answered": "first_response_hist"}
ADDED_FIELDS = (*COUNTED, "csat_count", "csat_sum")
HISTOGRAM_FIELDS = tuple(MEASURED.values())
KEY_FIELDS = ("workspace_id", "agent_id", "domain", "variant")

Key = tuple[int, str, str, str, datetime]  # workspace, agent, domain, variant, start


@dataclass(frozen=True)
class RollupReport:
    hours: int  # hour buckets (per agent/domain/variant) written
    days: int  # day buckets written
    windows: int  # contiguous hour ranges recomputed


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def recompute_horizon(now: datetime | None = None) -> datetime:
    """The earliest moment whose buckets may be recomputed: older raw events may already
    be pruned, and recomputing from what is left would erase the roll-ups."""
    now = now or timezone.now()
    oldest_complete = now - timedelta(days=settings.ANALYTICS_RETENTION_DAYS) + DAY
    return day_start(oldest_complete.astimezone(UTC).date()) + DAY


def hour_ranges(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Hour starts merged into contiguous [start, end) ranges."""
    ranges: list[tuple[datetime, datetime]] = []
    for hour in sorted({floor_hour(h) for h in hours}):
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + HOUR)
        else:
            ranges.append((hour, hour + HOUR))
    return ranges


def _events(start: datetime, end: datetime, agent_id: str | None) -> QuerySet[WidgetEvent]:
    rows = WidgetEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    return rows.filter(agent_id=agent_id) if agent_id else rows


def _number(value: Any) -> float | None:
    """A metadata value as a number, or None (a client may send anything)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if not math.isnan(number) and 0 <= number < float("inf") else None


def _hour_buckets(start: datetime, end: datetime, agent_id: str | None) -> list[MetricsBucket]:
    """Every hour bucket of [start, end), computed from the raw events."""
    events = _events(start, end, agent_id).annotate(bucket=TruncHour("occurred_at", tzinfo=UTC))
    rows: dict[Key, MetricsBucket] = {}
    counts = (
        events.values(*KEY_FIELDS, "bucket")
        .annotate(
            visitors=Count("session_id", distinct=True, filter=~Q(session_id="")),
            **{field: Count("id", filter=match) for field, match in COUNTED.items()},
        )
        .order_by()
    )
    for row in counts:
        key: Key = (*(row[f] for f in KEY_FIELDS), row["bucket"])
        rows[key] = MetricsBucket(
            **{f: row[f] for f in KEY_FIELDS},
            grain=MetricsBucket.Grain.HOUR,
            start=row["bucket"],
            visitors=row["visitors"],
            **{field: row[field] for field in COUNTED},
        )
    histograms: dict[tuple[Key, str], list[int]] = defaultdict(lambda: [0] * BIN_COUNT)
    valued = (
        events.filter(event__in=[*MEASURED, "csat"])
        .annotate(ms=KT("metadata__ms"), score=KT("metadata__score"))
        .values_list(*KEY_FIELDS, "bucket", "event", "ms", "score")
        .order_by()
    )
    for workspace_id, agent, domain, variant, bucket, event, ms, score in valued.iterator(
        chunk_size=5000
    ):
        key = (workspace_id, agent, domain, variant, bucket)
        if key not in rows:
            continue  # inserted after the counts were read: the next run counts it
        if event == "csat":
            value = _number(score)
            if value is not None and 1 <= value <= 5:
                rows[key].csat_count += 1
                rows[key].csat_sum += int(value)
            continue
        duration = _number(ms)
        if duration is not None:
            histograms[(key, MEASURED[event])][histogram_bin(duration)] += 1
    for (key, field), counts_by_bin in histograms.items():
        setattr(rows[key], field, counts_by_bin)
    return list(rows.values())


def _day_buckets(days: list[date], agent_id: str | None) -> list[MetricsBucket]:
    """Day buckets from the day's hour buckets, with distinct visitors from raw events."""
    if not days:
        return []
    window = Q()
    for day in days:
        window |= Q(start__gte=day_start(day), start__lt=day_start(day) + DAY)
    hours = MetricsBucket.objects.filter(window, grain=MetricsBucket.Grain.HOUR)
    if agent_id:
        hours = hours.filter(agent_id=agent_id)
    rows: dict[Key, MetricsBucket] = {}
    merged: dict[tuple[Key, str], list[list[int]]] = defaultdict(list)
    for hour in hours.order_by().iterator(chunk_size=5000):
        key: Key = (
            hour.workspace_id,
            hour.agent_id,
            hour.domain,
            hour.variant,
            day_start(hour.start.astimezone(UTC).date()),
        )
        row = rows.get(key)
        if row is None:
            row = rows[key] = MetricsBucket(
                workspace_id=key[0],
                agent_id=key[1],
                domain=key[2],
                variant=key[3],
                grain=MetricsBucket.Grain.DAY,
                start=key[4],
            )
        for field in ADDED_FIELDS:
            setattr(row, field, getattr(row, field) + getattr(hour, field))
        for field in HISTOGRAM_FIELDS:
            merged[(key, field)].append(getattr(hour, field))
    for (key, field), parts in merged.items():
        setattr(rows[key], field, histogram_merge(parts))
    events = WidgetEvent.objects.filter(
        Q(
            *[Q(occurred_at__gte=day_start(d), occurred_at__lt=day_start(d) + DAY) for d in days],
            _connector=Q.OR,
        ),
        ~Q(session_id=""),
    )
    if agent_id:
        events = events.filter(agent_id=agent_id)
    visitors = (
        events.annotate(day=TruncDay("occurred_at", tzinfo=UTC))
        .values(*KEY_FIELDS, "day")
        .annotate(n=Count("session_id", distinct=True))
        .order_by()
    )
    for row in visitors:
        key = (*(row[f] for f in KEY_FIELDS), row["day"])
        if key in rows:
            rows[key].visitors = row["n"]
    return list(rows.values())


def _replace(grain: str, windows: Q, agent_id: str | None, buckets: list[MetricsBucket]) -> None:
    """Swap the stored buckets of `windows` for `buckets`. The upsert keeps a concurrent
    run (a backfill next to the beat task) from failing on the unique constraint."""
    stale = MetricsBucket.objects.filter(windows, grain=grain)
    if agent_id:
        stale = stale.filter(agent_id=agent_id)
    stale.delete()
    MetricsBucket.objects.bulk_create(
        buckets,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["agent_id", "domain", "variant", "grain", "start"],
        update_fields=["workspace_id", *ADDED_FIELDS, "visitors", *HISTOGRAM_FIELDS, "computed_at"],
    )


def buckets_recompute(
    *, ranges: list[tuple[datetime, datetime]], agent_id: str | None = None
) -> RollupReport:
    """Recompute the hour buckets of `ranges` (hour-aligned) and the day buckets of every day
    they touch, for one agent or all. Ranges before the retention horizon are skipped."""
    horizon = recompute_horizon()
    ranges = [(max(start, horizon), end) for start, end in ranges if end > horizon]
    if not ranges:
        return RollupReport(hours=0, days=0, windows=0)
    hour_count = 0
    days: set[date] = set()
    with transaction.atomic():
        for start, end in ranges:
            # One stored event with undecodable text must not stop every tenant's roll-up.
            buckets = events_read_repairing(
                partial(_hour_buckets, start, end, agent_id),
                events=_events(start, end, agent_id),
                task="roll-up",
            )
            _replace(
                MetricsBucket.Grain.HOUR, Q(start__gte=start, start__lt=end), agent_id, buckets
            )
            hour_count += len(buckets)
            moment = start
            while moment < end:
                days.add(moment.date())
                moment += HOUR
        ordered = sorted(days)
        day_buckets = _day_buckets(ordered, agent_id)
        day_window = Q(start__in=[day_start(d) for d in ordered])
        _replace(MetricsBucket.Grain.DAY, day_window, agent_id, day_buckets)
    return RollupReport(hours=hour_count, days=len(day_buckets), windows=len(ranges))


def _watermark(now: datetime) -> datetime:
    stored = cache.get(WATERMARK_KEY)
    if isinstance(stored, str):
        return datetime.fromisoformat(stored)
    # The cache was emptied (a Redis restart): the last write of any bucket is close to the
    # last run's watermark.
    last = MetricsBucket.objects.aggregate(last=Max("computed_at"))["last"]
    return last if last is not None else now - FIRST_RUN_LOOKBACK


def rollup_incremental(*, now: datetime | None = None) -> RollupReport:
    """Recompute the hours touched by events received since the last run, and this hour."""
    now = now or timezone.now()
    since = _watermark(now) - OVERLAP
    touched = set(
        WidgetEvent.objects.filter(created_at__gte=since, created_at__lt=now)
        .annotate(hour=TruncHour("occurred_at", tzinfo=UTC))
        .values_list("hour", flat=True)
        .order_by()
        .distinct()
    )
    touched.add(floor_hour(now))
    report = buckets_recompute(ranges=hour_ranges(touched))
    cache.set(WATERMARK_KEY, now.isoformat(), timeout=None)
    return report
