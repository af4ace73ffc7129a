from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def validate_network(value: str) -> None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValidationError(f"{value!r} is not an IP address or CIDR network.") from None


class IpBlock(models.Model):
    """Refuse an address or network, platform-wide or for one workspace, until it expires."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Staff"
        AUTOMATIC = "automatic", "Abuse scorer"

    workspace_path = "workspace"

    # Empty for a platform-wide block (superusers only). A string reference: security
    # imports nothing of the other apps.
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    network = models.CharField(
        max_length=64, validators=[validate_network], help_text="203.0.113.7 or 203.0.113.0/24"
    )
    reason = models.CharField(max_length=255)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until removed.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], name="ipblock_expiry")]

    def __str__(self) -> str:
        return f"{self.network} ({self.reason})"


class AuditEntry(models.Model):
    """Who changed something security-relevant, and when. Written by services only."""

    workspace_path = "workspace"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Who acted: a person (`actor`), or a workspace API key (`actor_key_id`, the
    # workspaces.ApiKey id: a plain id, security imports nothing of the other apps).
    # `actor_label` names either as it was then ("ana", "api-key:ca_1a2b3c4d") and
    # outlives a deleted user.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_key_id = models.PositiveBigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=255)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.target}"

    def actor_display(self) -> str:
        """The person or API key that acted; empty for the platform itself."""
        if self.actor_label:
            return self.actor_label
        return self.actor.get_username() if self.actor is not None else ""

    actor_display.short_description = "actor"  # type: ignore[attr-defined]


class AbuseEvent(models.Model):
    """What the abuse scorer saw and did, for staff to review."""

    class Action(models.TextChoices):
        SLOWED = "slowed", "Message refused (slow down)"
        BLOCKED = "blocked", "Address blocked for a time"

    workspace_path = "workspace"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    agent_id = models.CharField(max_length=40)
    visitor_id = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    score = models.PositiveIntegerField()
    signals = models.JSONField(default=dict)
    action = models.CharField(max_length=16, choices=Action.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.visitor_id} (score {self.score})"
