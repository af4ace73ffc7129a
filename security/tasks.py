"""Celery tasks of the security app."""

from __future__ import annotations

from axes.models import AccessAttempt
from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone


@shared_task
def prune_staff_sign_in_records() -> int:
    """Forget what can no longer matter: refresh tokens past their expiry (simplejwt's
    `flushexpiredtokens`, blacklist rows included) and failed sign-ins older than the
    lockout cool-off (django-axes counts only newer ones). Returns the attempts deleted."""
    call_command("flushexpiredtokens")
    stale = AccessAttempt.objects.filter(
        attempt_time__lt=timezone.now() - settings.AXES_COOLOFF_TIME
    )
    deleted, _ = stale.delete()
    return int(deleted)
