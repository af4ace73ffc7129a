"""What an alert says, and its delivery by email and webhook (called by Celery tasks)."""

from __future__ import annotations

from typing import Literal, TypedDict

from django.conf import settings
from django.core.mail import send_mail

from analytics.models import AlertEvent
from analytics.monitoring.alert_metrics import ALERT_METRICS
from security.outbound import Purpose, post_json

Notice = Literal["firing", "resolved"]
MAX_ERROR = 500


class AlertPayload(TypedDict):
    """The webhook body (JSON)."""

    state: str
    rule: str
    ruleId: int
    workspace: str
    agentId: str
    metric: str
    value: float
    comparison: str
    threshold: float
    windowMinutes: int
    firedAt: str
    resolvedAt: str | None


def _iso(moment: object) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")  # type: ignore[attr-defined]


def alert_payload(event: AlertEvent, notice: Notice) -> AlertPayload:
    rule = event.rule
    return {
        "state": notice,
        "rule": rule.name,
        "ruleId": rule.pk,
        "workspace": rule.workspace.slug,
        "agentId": rule.agent_id,
        "metric": rule.metric,
        "value": round(event.value, 4),
        "comparison": rule.comparison,
        "threshold": rule.threshold,
        "windowMinutes": rule.window_minutes,
        "firedAt": _iso(event.fired_at) or "",
        "resolvedAt": _iso(event.resolved_at),
    }


def _event(event_id: int) -> AlertEvent:
    return AlertEvent.objects.select_related("rule__workspace").get(pk=event_id)


def alert_email_deliver(*, event_id: int, notice: Notice) -> None:
    """Mail the rule's recipients; SMTP errors propagate (the task retries)."""
    event = _event(event_id)
    rule, payload = event.rule, alert_payload(event, notice)
    metric = ALERT_METRICS.get(rule.metric)
    label = metric.label if metric else rule.metric
    headline = "FIRING" if notice == "firing" else "RESOLVED"
    scope = f"agent {rule.agent_id}" if rule.agent_id else "all agents"
    subject = f"[CustomerAgent] {headline}: {rule.name}"
    body = (
        f"{rule.name} ({rule.workspace.name}, {scope})\n\n"
        f"{label} over the last {rule.window_minutes} minutes: {payload['value']:g} "
        f"({rule.comparison} {rule.threshold:g} fires).\n"
        f"Fired at {payload['firedAt']}"
        + (f", resolved at {payload['resolvedAt']}" if payload["resolvedAt"] else "")
        + ".\n"
    )
    send_mail(subject, body, None, list(rule.emails), fail_silently=False)


def alert_webhook_deliver(*, event_id: int, notice: Notice) -> int:
    """POST the payload to the rule's webhook; OutboundRefused / OutboundFailed say why not."""
    event = _event(event_id)
    return post_json(
        event.rule.webhook_url,
        dict(alert_payload(event, notice)),
        timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS,
        purpose=Purpose.ALERT_WEBHOOK,
    )


def alert_notify_failed(*, event_id: int, channel: str, error: str) -> None:
    """Remember on the alert that a notification could not be delivered (shown in the admin)."""
    AlertEvent.objects.filter(pk=event_id).update(notify_error=f"{channel}: {error}"[:MAX_ERROR])
