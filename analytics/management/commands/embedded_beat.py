"""Celery beat for the embedded mode: runs CELERY_BEAT_SCHEDULE's tasks in this process.

`make run` has no broker and runs tasks eagerly, so nothing would ever roll up events,
evaluate alerts or compute experiment results. This loop does, on the same schedule (or
sooner with --max-interval, so a demo shows results in a minute). With a broker (Redis),
run the real `celery beat` and workers instead; this command refuses to.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

logger = logging.getLogger("customeragent.analytics")


def beat_entries(max_interval: float | None) -> dict[str, tuple[str, float]]:
    """Schedule name -> (task name, seconds between runs) from CELERY_BEAT_SCHEDULE."""
    entries: dict[str, tuple[str, float]] = {}
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        schedule: Any = entry["schedule"]  # seconds or a timedelta here
        seconds = float(schedule.total_seconds() if isinstance(schedule, timedelta) else schedule)
        if max_interval:
            seconds = min(seconds, max_interval)
        entries[name] = (str(entry["task"]), seconds)
    return entries


def beat_task_run(name: str, task_name: str) -> bool:
    """Run one scheduled task here and now; a failure is logged, never fatal to the loop."""
    task = current_app.tasks.get(task_name)
    if task is None:
        logger.error("embedded beat: no task %s (schedule entry %s)", task_name, name)
        return False
    try:
        task.apply(throw=True)
    except Exception:
        logger.exception("embedded beat: %s failed", task_name)
        return False
    finally:
        close_old_connections()
    return True


class Command(BaseCommand):
    help = "Run the beat schedule in-process (embedded mode only; `make run` starts it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-interval",
            type=float,
            default=None,
            help="Run every task at least this often (seconds), e.g. 60 for a demo.",
        )
        parser.add_argument("--once", action="store_true", help="Run every task once and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError(
                "Celery has a broker here (REDIS_URL): run `make worker` and `make beat` instead."
            )
        entries = beat_entries(options["max_interval"])
        current_app.loader.import_default_modules()  # the apps' tasks modules, once
        if options["once"]:
            failed = [name for name, (task, _) in entries.items() if not beat_task_run(name, task)]
            if failed:
                raise CommandError(f"Failed: {', '.join(failed)} (see the log).")
            self.stdout.write(f"Ran {len(entries)} scheduled tasks.")
            return
        due = dict.fromkeys(entries, 0.0)  # everything runs once at start
        self.stdout.write(f"Embedded beat: {len(entries)} scheduled tasks.")
        while True:
            now = time.monotonic()
            for name, (task, seconds) in entries.items():
                if now >= due[name]:
                    beat_task_run(name, task)
                    due[name] = time.monotonic() + seconds
            time.sleep(max(0.5, min(due.values()) - time.monotonic()))
