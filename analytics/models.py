from __future__ import annotations

from django.db import models
from django.utils import timezone


class WidgetEvent(models.Model):
    """One raw widget event (the roadmap's WidgetAnalytics).

    Analytics stores the other apps' objects by public id only and never imports them.
    """

    workspace_path = "workspace"

    # String reference: a relation for tenant scoping, not an import of the agents app.
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    agent_id = models.CharField(max_length=40)
    domain = models.CharField(max_length=255, blank=True)
    event = models.CharField(max_length=40)
    session_id = models.CharField(max_length=64, blank=True)
    customer_id = models.CharField(max_length=255, null=True, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    # The client's id for the event (deduplicates retried batches); null for server events.
    event_id = models.CharField(max_length=64, null=True, blank=True)
    # "<experiment key>:<variant key>" when the visitor is in an experiment.
    variant = models.CharField(max_length=81, blank=True)
    # When it happened (the client's clock, bounded by the server's); roll-ups use it.
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent_id", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="uniq_event_id",
            )
        ]
        indexes = [
            models.Index(fields=["agent_id", "created_at"], name="event_agent_time"),
            models.Index(fields=["event", "created_at"], name="event_type_time"),
            models.Index(fields=["agent_id", "occurred_at"], name="event_agent_occurred"),
        ]

    def __str__(self) -> str:
        return f"{self.event} on {self.agent_id}"


class DailyEventCount(models.Model):
    """Widget events per agent, day and type; recomputed whole, so re-runs agree."""

    workspace_path = "workspace"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
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


class MetricsBucket(models.Model):
    """Roll-up of one agent's widget and conversation metrics for one hour or day, per
    domain and experiment variant. Recomputed whole from raw events, so re-runs agree.

    Percentiles are kept as histograms over fixed edges (analytics.histograms) so any range
    of buckets can be merged and its p50/p95 read without the raw events.
    """

    class Grain(models.TextChoices):
        HOUR = "hour", "Hour"
        DAY = "day", "Day"

    workspace_path = "workspace"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    agent_id = models.CharField(max_length=40)
    domain = models.CharField(max_length=255, blank=True)
    variant = models.CharField(max_length=81, blank=True)
    grain = models.CharField(max_length=4, choices=Grain.choices)
    start = models.DateTimeField()
    loads = models.PositiveIntegerField(default=0)
    opens = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    conversations = models.PositiveIntegerField(default=0)
    customer_messages = models.PositiveIntegerField(default=0)
    agent_messages = models.PositiveIntegerField(default=0)
    handoffs = models.PositiveIntegerField(default=0)
    resolved_bot = models.PositiveIntegerField(default=0)
    resolved_human = models.PositiveIntegerField(default=0)
    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    first_response_hist = models.JSONField(default=list, blank=True)
    load_time_hist = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent_id", "domain", "variant", "grain", "start"],
                name="uniq_metrics_bucket",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "grain", "start"], name="bucket_ws_grain_start"),
            models.Index(fields=["agent_id", "grain", "start"], name="bucket_agent_grain_start"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.grain} {self.start:%Y-%m-%d %H:%M}"


class WidgetErrorGroup(models.Model):
    """Widget errors of one agent grouped by code and message."""

    workspace_path = "workspace"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    agent_id = models.CharField(max_length=40)
    fingerprint = models.CharField(max_length=64)
    code = models.CharField(max_length=60)
    message = models.CharField(max_length=500, blank=True)
    count = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["agent_id", "fingerprint"], name="uniq_error_group")
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.message[:60]} (x{self.count})"


class AlertRule(models.Model):
    """Notify by email and/or webhook when a metric crosses a threshold over a window."""

    class Comparison(models.TextChoices):
        ABOVE = "above", "above"
        BELOW = "below", "below"

    workspace_path = "workspace"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=120)
    agent_id = models.CharField(max_length=40, blank=True, help_text="Empty: every agent.")
    metric = models.CharField(max_length=40)
    comparison = models.CharField(max_length=5, choices=Comparison.choices)
    threshold = models.FloatField()
    window_minutes = models.PositiveIntegerField(default=15)
    cooldown_minutes = models.PositiveIntegerField(default=60)
    emails = models.JSONField(default=list, blank=True)
    webhook_url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertEvent(models.Model):
    """One firing of a rule, from when it crossed the threshold to when it recovered."""

    workspace_path = "rule__workspace"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    value = models.FloatField()
    fired_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-fired_at"]
        indexes = [models.Index(fields=["rule", "-fired_at"], name="alert_rule_recent")]

    def __str__(self) -> str:
        return f"{self.rule} at {self.fired_at:%Y-%m-%d %H:%M}"
