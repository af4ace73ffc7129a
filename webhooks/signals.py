"""A changed endpoint is read again by this process at once (others within seconds)."""

from __future__ import annotations

from typing import Any

from webhooks.events import subscriptions_forget
from webhooks.models import WebhookEndpoint


def endpoint_changed(
    sender: type[WebhookEndpoint], instance: WebhookEndpoint, **kwargs: Any
) -> None:
    subscriptions_forget(instance.workspace_id)
