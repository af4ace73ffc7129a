"""Every task is registered under the name it is queued by and scheduled under: services
queue by name (core.task_queue), beat entries and queued messages carry names."""

from __future__ import annotations

from django.conf import settings

from analytics.monitoring.alerts import EMAIL_TASK, WEBHOOK_TASK
from config.celery import app as celery_app
from conversations.task_names import GREETING_TASK, REPLY_TASK, SWEEP_TASK
from core.task_queue import task_named


def test_every_name_queued_or_scheduled_is_a_registered_task() -> None:
    celery_app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    queued = {REPLY_TASK, GREETING_TASK, SWEEP_TASK, EMAIL_TASK, WEBHOOK_TASK}
    missing = sorted((scheduled | queued) - set(celery_app.tasks))
    assert not missing, f"not registered: {missing}"
    assert SWEEP_TASK in scheduled


def test_task_named_finds_a_task_by_its_name() -> None:
    assert task_named(REPLY_TASK).name == REPLY_TASK
