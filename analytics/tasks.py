from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from analytics.services import daily_counts_compute


@shared_task
def rollup_daily_event_counts(day: str | None = None) -> int:
    """Recount yesterday and today (or one given ISO day). Re-running gives the same rows."""
    if day:
        return daily_counts_compute(day=date.fromisoformat(day))
    today = timezone.now().date()
    return sum(daily_counts_compute(day=d) for d in (today - timedelta(days=1), today))
