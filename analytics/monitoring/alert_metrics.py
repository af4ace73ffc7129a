"""The metrics an alert rule can watch, each computed over the rule's window.

Read from the raw events received in the window (`created_at`: when they reached us, so an
event that arrives late still counts now, when it matters for an alert). A metric answers
None when there is nothing to measure (no loads: no open rate); a rule then neither fires
nor resolves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KT

from analytics.histograms import histogram_of, histogram_percentile
from analytics.models import WidgetEvent
from analytics.monitoring.heartbeat import worker_heartbeat_age


@dataclass(frozen=True)
class Scope:
    """Whose events, over which window."""

    workspace_id: int
    agent_id: str  # empty: every agent of the workspace
    start: datetime
    end: datetime

    def events(self) -> QuerySet[WidgetEvent]:
        rows = WidgetEvent.objects.filter(
            workspace_id=self.workspace_id, created_at__gt=self.start, created_at__lte=self.end
        )
        return rows.filter(agent_id=self.agent_id) if self.agent_id else rows


@dataclass(frozen=True)
class AlertMetric:
    key: str
    label: str
    unit: str
    compute: Callable[[Scope], float | None]


def _count(event: str) -> Callable[[Scope], float | None]:
    def compute(scope: Scope) -> float | None:
        return float(scope.events().filter(event=event).count())

    return compute


def _open_rate(scope: Scope) -> float | None:
    counts = scope.events().aggregate(
        loads=Count("id", filter=Q(event="load")), opens=Count("id", filter=Q(event="open"))
    )
    return counts["opens"] / counts["loads"] if counts["loads"] else None


def _numbers(scope: Scope, event: str, key: str) -> list[float]:
    values = []
    raw = scope.events().filter(event=event).annotate(value=KT(f"metadata__{key}"))
    for value in raw.values_list("value", flat=True):
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isnan(number) and number >= 0:
            values.append(number)
    return values


def _csat_average(scope: Scope) -> float | None:
    scores = [s for s in _numbers(scope, "csat", "score") if 1 <= s <= 5]
    return sum(scores) / len(scores) if scores else None


def _first_response_p95(scope: Scope) -> float | None:
    """Seconds; the same histogram the dashboard reads, so both agree."""
    millis = histogram_percentile(histogram_of(_numbers(scope, "message_answered", "ms")), 0.95)
    return None if millis is None else millis / 1000


def _worker_heartbeat_minutes(scope: Scope) -> float | None:
    age = worker_heartbeat_age()
    return None if age is None else age / 60


ALERT_METRICS: dict[str, AlertMetric] = {
    metric.key: metric
    for metric in (
        AlertMetric("errors", "Widget errors", "errors", _count("error")),
        AlertMetric("open_rate", "Open rate (opens / loads)", "ratio 0-1", _open_rate),
        AlertMetric("handoffs", "Handoffs to a person", "handoffs", _count("handed_off")),
        AlertMetric("csat_average", "Average CSAT", "score 1-5", _csat_average),
        AlertMetric(
            "first_response_p95", "First response time p95", "seconds", _first_response_p95
        ),
        AlertMetric(
            "worker_heartbeat_age",
            "Minutes since a Celery worker last ran (whole deployment)",
            "minutes",
            _worker_heartbeat_minutes,
        ),
    )
}


def alert_metric_value(
    *, metric: str, workspace_id: int, agent_id: str, window_minutes: int, now: datetime
) -> float | None:
    """The metric's value over the `window_minutes` before `now`; KeyError if unknown."""
    scope = Scope(workspace_id, agent_id, now - timedelta(minutes=window_minutes), now)
    return ALERT_METRICS[metric].compute(scope)
