"""Alert rules, evaluated every minute: fire once, keep quiet in the cooldown, resolve.

One rule has at most one open AlertEvent (the rule row is locked while it is evaluated,
so overlapping runs cannot open two). A firing is notified unless the rule already
notified within its cooldown (a flapping metric does not flood anyone); its resolution is
notified when its firing was. Notifications go out through Celery after commit, so a
slow mail server or webhook never holds the lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from analytics.models import AlertEvent, AlertRule
from analytics.monitoring.alert_metrics import alert_metric_value
from core.task_queue import task_named

logger = logging.getLogger(__name__)

# The notice tasks (analytics.tasks, which imports this module), queued by name.
EMAIL_TASK = "analytics.tasks.alert_email_send"
WEBHOOK_TASK = "analytics.tasks.alert_webhook_send"

State = Literal["fired", "firing", "resolved", "ok", "no_data"]
Notice = Literal["firing", "resolved"]


@dataclass(frozen=True)
class Evaluation:
    rule_id: int
    value: float | None
    state: State
    notified: bool = False


def alerts_evaluate(*, now: datetime | None = None) -> list[Evaluation]:
    """Evaluate every active rule; one broken rule does not stop the others."""
    now = now or timezone.now()
    results = []
    for rule_id in AlertRule.objects.filter(is_active=True).values_list("id", flat=True):
        try:
            results.append(alert_rule_evaluate(rule_id=rule_id, now=now))
        except Exception:
            logger.exception("alert rule %s could not be evaluated", rule_id)
    return results


def _breached(rule: AlertRule, value: float) -> bool:
    if rule.comparison == AlertRule.Comparison.BELOW:
        return value < rule.threshold
    return value > rule.threshold


def _worse(rule: AlertRule, old: float, new: float) -> float:
    return min(old, new) if rule.comparison == AlertRule.Comparison.BELOW else max(old, new)


def _cooled_down(rule: AlertRule, now: datetime) -> bool:
    last = AlertEvent.objects.filter(rule=rule).aggregate(last=Max("notified_at"))["last"]
    return last is None or now - last >= timedelta(minutes=rule.cooldown_minutes)


@transaction.atomic
def alert_rule_evaluate(*, rule_id: int, now: datetime) -> Evaluation:
    """Compare one rule's metric with its threshold and move its alert along."""
    rule = AlertRule.objects.select_for_update().get(pk=rule_id)
    value = alert_metric_value(
        metric=rule.metric,
        workspace_id=rule.workspace_id,
        agent_id=rule.agent_id,
        window_minutes=rule.window_minutes,
        now=now,
    )
    if value is None:
        return Evaluation(rule.pk, None, "no_data")
    current = rule.events.filter(resolved_at__isnull=True).order_by("-fired_at").first()
    breached = _breached(rule, value)
    if breached and current is None:
        notify = _cooled_down(rule, now)
        event = AlertEvent.objects.create(
            rule=rule, value=value, fired_at=now, notified_at=now if notify else None
        )
        if notify:
            _notify_after_commit(rule, event, "firing")
        return Evaluation(rule.pk, value, "fired", notified=notify)
    if breached and current is not None:
        current.value = _worse(rule, current.value, value)
        current.save(update_fields=["value"])
        return Evaluation(rule.pk, value, "firing")
    if current is None:
        return Evaluation(rule.pk, value, "ok")
    # Back on the right side of the threshold: resolved, and said so if the firing was.
    notify = current.notified_at is not None
    current.resolved_at = now
    if notify:
        current.notified_at = now
    current.save(update_fields=["resolved_at", "notified_at"])
    if notify:
        _notify_after_commit(rule, current, "resolved")
    return Evaluation(rule.pk, value, "resolved", notified=notify)


def _notify_after_commit(rule: AlertRule, event: AlertEvent, notice: Notice) -> None:
    event_id = event.pk
    if rule.emails:
        transaction.on_commit(lambda: task_named(EMAIL_TASK).delay(event_id, notice), robust=True)
    if rule.webhook_url:
        transaction.on_commit(lambda: task_named(WEBHOOK_TASK).delay(event_id, notice), robust=True)
