from __future__ import annotations

from django.db import models


class WidgetEvent(models.Model):
    """One raw widget event (the roadmap's WidgetAnalytics).

    Analytics stores the other apps' objects by public id only and never imports them.
    """

    workspace_path = "workspace"

    # String reference: a relation for tenant scoping, not an import of the agents app.
    workspace = models.ForeignKey("agents.Workspace", on_delete=models.CASCADE, related_name="+")
    agent_id = models.CharField(max_length=40)
    domain = models.CharField(max_length=255, blank=True)
    event = models.CharField(max_length=40)
    session_id = models.CharField(max_length=64, blank=True)
    customer_id = models.CharField(max_length=255, null=True, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["agent_id", "created_at"], name="event_agent_time"),
            models.Index(fields=["event", "created_at"], name="event_type_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event} on {self.agent_id}"


class DailyEventCount(models.Model):
    """Widget events per agent, day and type; recomputed whole, so re-runs agree."""

    workspace_path = "workspace"

    workspace = models.ForeignKey("agents.Workspace", on_delete=models.CASCADE, related_name="+")
    agent_id = models.CharField(max_length=40)
    day = models.DateField()
    event = models.CharField(max_length=40)
    count = models.PositiveIntegerField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "agent_id", "event"]
        constraints = [
            models.UniqueConstraint(fields=["agent_id", "day", "event"], name="uniq_daily_count")
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.day} {self.event}={self.count}"
