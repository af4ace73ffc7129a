"""Endpoints as staff and integrators manage them: created with a secret shown once,
rotated (the old secret still signs for a day), resumed, removed; all audited."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidRequest
from security.audit import acting_user, audit_record
from security.outbound import Purpose, outbound_url_problem
from security.sealing import seal
from webhooks.delivery import EVENT_TYPES, TEST_EVENT, deliveries_create
from webhooks.models import WebhookEndpoint
from workspaces.models import Workspace

ROTATION_GRACE = timedelta(hours=24)
MAX_ENDPOINTS = 20  # per workspace


def secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_url_validate(url: Any) -> str:
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
        raise InvalidRequest("url must be an http(s) URL.")
    problem = outbound_url_problem(url, purpose=Purpose.WEBHOOK)
    if problem:
        raise InvalidRequest(problem)
    return url


def webhook_events_validate(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise InvalidRequest(f"events must be a list of: {', '.join(EVENT_TYPES)}.")
    unknown = sorted({str(e) for e in events} - set(EVENT_TYPES))
    if unknown:
        raise InvalidRequest(f"Unknown events: {', '.join(unknown)}.")
    return sorted(set(events))


def _audit(endpoint: WebhookEndpoint, action: str, by: Any, **changes: Any) -> None:
    audit_record(
        action=action,
        target=endpoint.url,
        actor=by,
        workspace_id=endpoint.workspace_id,
        changes=changes or None,
    )


@transaction.atomic
def webhook_endpoint_create(
    *, workspace: Workspace, url: Any, events: Any, by: Any
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown to the caller once, stored sealed)."""
    url, events = webhook_url_validate(url), webhook_events_validate(events)
    if WebhookEndpoint.objects.filter(workspace=workspace).count() >= MAX_ENDPOINTS:
        raise InvalidRequest(f"A workspace has at most {MAX_ENDPOINTS} webhook endpoints.")
    secret = secret_new()
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url=url,
        events=events,
        sealed_secret=seal(secret),
        created_by=acting_user(by),
    )
    _audit(endpoint, "webhook.created", by, events=events)
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(endpoint: WebhookEndpoint, *, url: Any, events: Any, by: Any) -> None:
    endpoint.url, endpoint.events = webhook_url_validate(url), webhook_events_validate(events)
    endpoint.save(update_fields=["url", "events"])
    _audit(endpoint, "webhook.changed", by, events=endpoint.events)


@transaction.atomic
def webhook_secret_rotate(endpoint: WebhookEndpoint, *, by: Any) -> str:
    """A new secret; deliveries carry both signatures for a day, then only the new one."""
    secret = secret_new()
    endpoint.sealed_previous_secret = endpoint.sealed_secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_GRACE
    endpoint.sealed_secret = seal(secret)
    endpoint.save(
        update_fields=["sealed_secret", "sealed_previous_secret", "previous_secret_expires_at"]
    )
    _audit(endpoint, "webhook.secret_rotated", by)
    return secret


def webhook_endpoint_resume(endpoint: WebhookEndpoint, *, by: Any) -> None:
    """Send again to a paused endpoint (what it missed is redelivered by hand)."""
    endpoint.paused_at, endpoint.consecutive_failures = None, 0
    endpoint.save(update_fields=["paused_at", "consecutive_failures"])
    _audit(endpoint, "webhook.resumed", by)


def webhook_endpoint_delete(endpoint: WebhookEndpoint, *, by: Any) -> None:
    _audit(endpoint, "webhook.removed", by)
    endpoint.delete()


def webhook_test_send(endpoint: WebhookEndpoint) -> None:
    """A `webhook.test` event to this endpoint alone, to see a delivery work."""
    if endpoint.paused_at is not None or not endpoint.is_active:
        raise InvalidRequest("Resume the endpoint before sending it a test event.")
    deliveries_create(
        workspace_id=endpoint.workspace_id,
        event_type=TEST_EVENT,
        data={"endpoint": endpoint.public_id, "message": "This is a test event."},
        at=timezone.now(),
        only=endpoint,
    )
