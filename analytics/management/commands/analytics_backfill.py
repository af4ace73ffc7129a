"""`python manage.py analytics_backfill --since 2026-01-01 [--until DAY] [--agent agt_…]`.

Recomputes the metric buckets of every day in the range from the raw events, one day at a
time (each day in its own transaction), with a progress bar on one line. Safe to run next
to the beat task and to run again: buckets are replaced whole.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from analytics.rollups import DAY, buckets_recompute, day_start, recompute_horizon

BAR_WIDTH = 30


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date such as 2026-01-31") from None


class Command(BaseCommand):
    help = "Recompute analytics roll-ups (hour and day buckets) from the raw events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, type=_day, help="first UTC day")
        parser.add_argument("--until", type=_day, help="last UTC day (default: today)")
        parser.add_argument("--agent", help="only this agent (agt_…)")

    def handle(
        self, *args: Any, since: date, until: date | None, agent: str | None, **options: Any
    ) -> None:
        until = until or timezone.now().date()
        if until < since:
            raise CommandError("--until is before --since")
        horizon = recompute_horizon().date()
        if since < horizon:
            self.stderr.write(
                f"Raw events before {horizon} may already be pruned (ANALYTICS_RETENTION_DAYS); "
                f"their roll-ups are kept as they are. Starting at {horizon}."
            )
            since = horizon
        days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
        hours = day_buckets = 0
        for done, day in enumerate(days, start=1):
            start = day_start(day)
            report = buckets_recompute(ranges=[(start, start + DAY)], agent_id=agent)
            hours, day_buckets = hours + report.hours, day_buckets + report.days
            self._progress(done, len(days), day, hours + day_buckets)
        if days:
            self.stdout.write("")
        self.stdout.write(
            f"Recomputed {len(days)} day(s): {hours} hour and {day_buckets} day buckets"
            + (f" for {agent}." if agent else ".")
        )

    def _progress(self, done: int, total: int, day: date, buckets: int) -> None:
        filled = BAR_WIDTH * done // total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stdout.write(
            f"\r[{bar}] {done}/{total} days  {day.isoformat()}  {buckets} buckets", ending=""
        )
        self.stdout.flush()
