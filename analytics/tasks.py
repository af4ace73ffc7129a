"""Celery tasks of the analytics app; each is idempotent, so a retry or an overlap is safe."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from celery import Task, shared_task
from django.core.cache import cache
from django.utils import timezone

from analytics.monitoring.alerts import EMAIL_TASK, WEBHOOK_TASK, alerts_evaluate
from analytics.monitoring.error_groups import error_groups_update
from analytics.monitoring.heartbeat import worker_heartbeat_record
from analytics.monitoring.notify import (
    Notice,
    alert_email_deliver,
    alert_notify_failed,
    alert_webhook_deliver,
)
from analytics.rollups import rollup_incremental
from analytics.services import daily_counts_compute, events_prune
from security.outbound import OutboundFailed, OutboundRefused

ROLLUP_LOCK_KEY = "analytics:rollup:lock"
ROLLUP_LOCK_SECONDS = 15 * 60


@shared_task
def rollup_daily_event_counts(day: str | None = None) -> int:
    """Recount yesterday and today (or one given ISO day). Re-running gives the same rows."""
    if day:
        return daily_counts_compute(day=date.fromisoformat(day))
    today = timezone.now().date()
    return sum(daily_counts_compute(day=d) for d in (today - timedelta(days=1), today))


@shared_task
def rollup_metrics() -> int:
    """Recompute the metric buckets touched since the last run (docs/analytics.md).

    Runs that would overlap skip instead (the next one catches up); the lock expires on its
    own if a worker dies holding it.
    """
    if not cache.add(ROLLUP_LOCK_KEY, "1", ROLLUP_LOCK_SECONDS):
        return 0
    try:
        report = rollup_incremental()
    finally:
        cache.delete(ROLLUP_LOCK_KEY)
    return report.hours + report.days


@shared_task
def prune_events() -> int:
    """Delete raw events older than ANALYTICS_RETENTION_DAYS."""
    return events_prune()


# --- Monitoring and alerts (docs/monitoring.md) ---------
NOTIFY_RETRIES = 5


def _backoff(retries: int) -> int:
    return int(min(600, 15 * 2**retries))


@shared_task(ignore_result=True)
def worker_heartbeat() -> float:
    """Stamp the time: it moves only while some worker consumes the queue."""
    return worker_heartbeat_record()


@shared_task
def group_widget_errors() -> int:
    """Fold the error events received since the last run into their groups."""
    return error_groups_update()


@shared_task
def evaluate_alerts() -> int:
    """Evaluate every active alert rule (every minute); returns how many were evaluated."""
    return len(alerts_evaluate())


@shared_task(name=EMAIL_TASK, bind=True, acks_late=True, max_retries=NOTIFY_RETRIES)
def alert_email_send(self: Task[Any, Any], event_id: int, notice: Notice) -> None:
    """Mail an alert's firing or resolution, retrying with backoff on mail-server errors."""
    try:
        alert_email_deliver(event_id=event_id, notice=notice)
    except OSError as exc:  # smtplib's errors are OSErrors
        if self.request.retries >= NOTIFY_RETRIES:
            alert_notify_failed(event_id=event_id, channel="email", error=str(exc))
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name=WEBHOOK_TASK, bind=True, acks_late=True, max_retries=NOTIFY_RETRIES)
def alert_webhook_send(self: Task[Any, Any], event_id: int, notice: Notice) -> None:
    """POST an alert to its webhook; a refused URL is recorded at once, a failure retried."""
    try:
        alert_webhook_deliver(event_id=event_id, notice=notice)
    except OutboundRefused as exc:
        alert_notify_failed(event_id=event_id, channel="webhook", error=str(exc))
    except OutboundFailed as exc:
        if self.request.retries >= NOTIFY_RETRIES:
            alert_notify_failed(event_id=event_id, channel="webhook", error=str(exc))
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
