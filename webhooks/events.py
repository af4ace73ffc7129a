"""The events a workspace can subscribe to, and how the product emits one.

`webhook_event_emit` is called where the thing happens (conversations' services); after
the transaction commits, one delivery per subscribed endpoint is stored and queued. Which
endpoints want what is read at most every SUBSCRIPTIONS_SECONDS per process, so a
workspace without webhooks costs a message nothing but a dictionary lookup.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from webhooks.delivery import EVENT_TYPES, deliveries_create
from webhooks.models import WebhookEndpoint

logger = logging.getLogger(__name__)

SUBSCRIPTIONS_SECONDS = 5.0

_lock = threading.Lock()
_subscriptions: dict[int, tuple[float, frozenset[str]]] = {}


def subscriptions_forget(workspace_id: int | None = None) -> None:
    """An endpoint changed: this process reads the workspace's subscriptions again."""
    with _lock:
        if workspace_id is None:
            _subscriptions.clear()
        else:
            _subscriptions.pop(workspace_id, None)


def _subscribed(workspace_id: int) -> frozenset[str]:
    now = time.monotonic()
    with _lock:
        held = _subscriptions.get(workspace_id)
    if held is not None and held[0] > now:
        return held[1]
    rows = WebhookEndpoint.objects.filter(
        workspace_id=workspace_id, is_active=True, paused_at__isnull=True
    ).values_list("events", flat=True)
    types = frozenset(kind for events in rows for kind in events)
    with _lock:
        _subscriptions[workspace_id] = (now + SUBSCRIPTIONS_SECONDS, types)
    return types


def webhook_event_emit(
    *,
    workspace_id: int,
    event_type: str,
    data: dict[str, Any] | Callable[[], dict[str, Any]],
) -> None:
    """Send `event_type` with `data` to the workspace's endpoints that subscribed to it,
    once the current transaction commits (at once outside one). `data` may be a function,
    called after the commit (the resource as stored) and only when someone subscribed.
    Never raises: a webhook must not cost the product its own work."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    try:
        if event_type not in _subscribed(workspace_id):
            return
    except Exception:
        logger.exception("webhook subscriptions of workspace %s unreadable", workspace_id)
        return
    happened_at = timezone.now()
    try:
        body = data() if callable(data) else data
    except Exception:
        logger.exception("webhook event %s of workspace %s not built", event_type, workspace_id)
        return

    def deliver() -> None:
        deliveries_create(
            workspace_id=workspace_id, event_type=event_type, data=body, at=happened_at
        )

    transaction.on_commit(deliver, robust=True)
