"""A workspace's webhook endpoints and every delivery made to them (docs/webhooks.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from security.ids import new_public_id


def new_endpoint_id() -> str:
    return new_public_id("whk")


def new_event_id() -> str:
    return new_public_id("evt")


class WebhookEndpoint(models.Model):
    """Where a workspace's events go: a URL, the events chosen, and the signing secret
    (sealed; the previous one is kept for a day after a rotation, both signatures sent)."""

    workspace_path = "workspace"

    public_id = models.CharField(
        max_length=40, unique=True, default=new_endpoint_id, editable=False
    )
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="The event types sent here.")
    sealed_secret = models.TextField(editable=False)
    sealed_previous_secret = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    paused_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when deliveries kept failing; resume to send again."
    )
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace", "url"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: its body (signed when sent) and how each attempt went.
    The event id is the receiver's de-duplication key; it is stored once per endpoint."""

    workspace_path = "endpoint__workspace"

    class Status(models.TextChoices):
        PENDING = "pending"  # queued or waiting for its next attempt
        SUCCEEDED = "succeeded"
        FAILED = "failed"  # every attempt failed, or the endpoint was paused or removed

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=40, default=new_event_id)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField(help_text="The body sent, as JSON.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True, help_text="The start of the last answer.")
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="uniq_delivery_event")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint}"
