"""Deliveries: stored per endpoint after the event's transaction commits, sent signed,
retried with backoff for about a day, and an endpoint that keeps failing is paused (its
workspace's owners are told by e-mail and the audit log). At least once: a receiver
de-duplicates by the event id (docs/webhooks.md)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.task_queue import task_enqueue
from core.times import iso_utc
from security.audit import audit_record
from security.outbound import Purpose, pinned_client
from security.sealing import SealBroken, unseal
from webhooks.models import WebhookDelivery, WebhookEndpoint, new_event_id
from webhooks.signing import HEADER, signature_header
from workspaces.models import Membership

logger = logging.getLogger(__name__)

EVENT_TYPES: Final = (
    "conversation.created",
    "message.created",
    "conversation.handoff",
    "conversation.assigned",
    "conversation.resolved",
    "customer.identified",
    "customer.verified",
    "csat.submitted",
    "channel.failed",
)
TEST_EVENT: Final = "webhook.test"  # "send test event" in the admin; never subscribed to
DELIVER_TASK: Final = "webhooks.tasks.webhook_deliver"
# After each failed attempt, the wait before the next: about a day in all (10 attempts).
BACKOFF: Final = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=8),
)
PAUSE_AFTER: Final = 5  # deliveries in a row that used every attempt
RESPONSE_KEPT = 1000  # characters of the receiver's answer kept for the log
LEASE = timedelta(seconds=60)  # one attempt at a time per delivery, whoever runs it


def deliveries_create(
    *,
    workspace_id: int,
    event_type: str,
    data: dict[str, Any],
    at: datetime,
    only: WebhookEndpoint | None = None,
) -> list[WebhookDelivery]:
    """One delivery of this event per endpoint that wants it (or to `only`), each queued
    at once; the event id is shared (one event, several endpoints)."""
    endpoints = WebhookEndpoint.objects.filter(
        workspace_id=workspace_id, is_active=True, paused_at__isnull=True
    )
    if only is not None:
        endpoints = endpoints.filter(pk=only.pk)
    wanted = [e for e in endpoints if event_type in e.events or only is not None]
    if not wanted:
        return []
    event_id = new_event_id()
    payload = {"id": event_id, "type": event_type, "createdAt": iso_utc(at), "data": data}
    made = []
    for endpoint in wanted:
        made.append(
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                event_id=event_id,
                event_type=event_type,
                payload=payload,
                next_attempt_at=timezone.now(),
            )
        )
    for delivery in made:
        _queue_after_commit(delivery.pk)
    return made


def _queue_after_commit(delivery_id: int) -> None:
    transaction.on_commit(lambda: task_enqueue(DELIVER_TASK, delivery_id), robust=True)


def endpoint_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The secrets a delivery is signed with now: the current one and, for a day after a
    rotation, the previous one."""
    sealed = [endpoint.sealed_secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.sealed_previous_secret and expires is not None and expires > timezone.now():
        sealed.append(endpoint.sealed_previous_secret)
    secrets = []
    for value in sealed:
        try:
            secrets.append(unseal(value))
        except SealBroken:
            logger.error("a secret of webhook %s cannot be unsealed", endpoint.public_id)
    return secrets


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """The delivery, if it is due and nobody else is sending it (a lease on its row)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint__workspace").get(pk=delivery_id)


def delivery_attempt(delivery_id: int) -> WebhookDelivery | None:
    """Send the delivery once if it is due (None when it is not, or is being sent)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.is_active or endpoint.paused_at is not None:
        return _finish(delivery, ok=False, error="The endpoint is paused or off.")
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(timezone.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CustomerAgent-Webhooks/1",
        HEADER: signature_header(endpoint_secrets(endpoint), timestamp, body),
    }
    delivery.attempts += 1
    try:
        with pinned_client(
            purpose=Purpose.WEBHOOK, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        ) as client:
            response = client.post(endpoint.url, content=body, headers=headers)
    except Exception as exc:  # noqa: BLE001 (refused, unreachable, timed out, the HTTP library's own)
        return _failed(delivery, code=None, answer="", error=f"{type(exc).__name__}: {exc}")
    answer = response.text[:RESPONSE_KEPT]
    if 200 <= response.status_code < 300:
        delivery.last_status_code, delivery.last_response = response.status_code, answer
        return _finish(delivery, ok=True)
    return _failed(delivery, code=response.status_code, answer=answer, error="")


def _failed(
    delivery: WebhookDelivery, *, code: int | None, answer: str, error: str
) -> WebhookDelivery:
    delivery.last_status_code, delivery.last_response = code, answer
    delivery.last_error = (error or f"answered {code}")[:500]
    if delivery.attempts <= len(BACKOFF):
        delivery.next_attempt_at = timezone.now() + BACKOFF[delivery.attempts - 1]
        delivery.save()
        return delivery
    return _finish(delivery, ok=False, error=delivery.last_error)


def _finish(delivery: WebhookDelivery, *, ok: bool, error: str = "") -> WebhookDelivery:
    endpoint = delivery.endpoint
    delivery.next_attempt_at = None
    if ok:
        delivery.status, delivery.delivered_at, delivery.last_error = (
            WebhookDelivery.Status.SUCCEEDED,
            timezone.now(),
            "",
        )
        delivery.save()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return delivery
    delivery.status, delivery.last_error = WebhookDelivery.Status.FAILED, error[:500]
    delivery.save()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint.refresh_from_db(fields=["consecutive_failures", "paused_at"])
    if endpoint.consecutive_failures >= PAUSE_AFTER and endpoint.paused_at is None:
        endpoint_pause(endpoint)
    return delivery


def endpoint_pause(endpoint: WebhookEndpoint) -> None:
    """Stop sending to an endpoint that keeps failing, and tell the workspace's owners."""
    paused = WebhookEndpoint.objects.filter(pk=endpoint.pk, paused_at__isnull=True).update(
        paused_at=timezone.now()
    )
    if not paused:
        return
    logger.warning("webhook %s paused after failing deliveries", endpoint.public_id)
    audit_record(
        action="webhook.paused",
        target=endpoint.url,
        workspace_id=endpoint.workspace_id,
        changes={"consecutiveFailures": endpoint.consecutive_failures},
    )
    owners = Membership.objects.filter(
        workspace_id=endpoint.workspace_id, role=Membership.Role.OWNER
    ).values_list("user__email", flat=True)
    recipients = [address for address in owners if address]
    if recipients:
        send_mail(
            "[CustomerAgent] A webhook was paused",
            f"Deliveries to {endpoint.url} failed {endpoint.consecutive_failures} times in a "
            "row, every retry included, so we stopped sending to it. Fix the endpoint, then "
            "resume it in the admin (Webhooks) and redeliver what it missed.",
            None,
            recipients,
            fail_silently=True,
        )


def deliveries_due(*, limit: int = 200) -> int:
    """Attempt every delivery whose next attempt is due (the beat task); how many were."""
    due = (
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in list(due) if delivery_attempt(pk) is not None)


def delivery_redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send it again, as it was (same event id), with a fresh set of attempts."""
    delivery.status, delivery.attempts = WebhookDelivery.Status.PENDING, 0
    delivery.next_attempt_at, delivery.last_error = timezone.now(), ""
    delivery.save()
    _queue_after_commit(delivery.pk)
    return delivery
