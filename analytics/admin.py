"""Admin for analytics: raw widget events and daily counts; for monitoring, widget error
groups, alert rules and the alerts they raised.

Scoped like every other admin page (workspaces.scoped_admin): a member sees their workspaces' rows;
owners and admins change rules. Events, counts, error groups and alert events are
written by the platform only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin
from django.core.validators import validate_email

from analytics.models import AlertEvent, AlertRule, DailyEventCount, WidgetErrorGroup, WidgetEvent
from analytics.monitoring.alert_metrics import ALERT_METRICS
from security.outbound import Purpose, outbound_url_problem
from workspaces.scoped_admin import ReadOnlyScopedAdmin, WorkspaceScopedAdmin

MAX_RECIPIENTS = 20


@admin.register(WidgetErrorGroup)
class WidgetErrorGroupAdmin(ReadOnlyScopedAdmin):
    list_display = ["code", "message", "agent_id", "count", "first_seen", "last_seen"]
    list_filter = ["code", "workspace"]
    search_fields = ["code", "message", "agent_id"]
    date_hierarchy = "last_seen"
    deletable = False  # the groups are also the cursor of the incremental count


class AlertRuleForm(forms.ModelForm):
    metric = forms.ChoiceField(
        choices=[(m.key, f"{m.label} ({m.unit})") for m in ALERT_METRICS.values()]
    )

    class Meta:
        model = AlertRule
        fields = [
            "workspace",
            "name",
            "agent_id",
            "metric",
            "comparison",
            "threshold",
            "window_minutes",
            "cooldown_minutes",
            "emails",
            "webhook_url",
            "is_active",
        ]
        help_texts = {
            "emails": 'A JSON list of addresses, e.g. ["ops@example.com"].',
            "webhook_url": "Receives a JSON POST when the alert fires and when it resolves.",
            "window_minutes": "The metric is computed over this many minutes before now.",
            "cooldown_minutes": "No new notification within this long of the last one.",
        }

    def clean_emails(self) -> list[str]:
        value: Any = self.cleaned_data.get("emails") or []
        if not isinstance(value, list) or len(value) > MAX_RECIPIENTS:
            raise forms.ValidationError(f"Enter a JSON list of at most {MAX_RECIPIENTS} addresses.")
        for address in value:
            if not isinstance(address, str):
                raise forms.ValidationError("Addresses are text.")
            validate_email(address)
        return [address.strip() for address in value]

    def clean_webhook_url(self) -> str:
        url = str(self.cleaned_data.get("webhook_url") or "")
        # Checked again at every delivery: DNS may change.
        problem = outbound_url_problem(url, purpose=Purpose.ALERT_WEBHOOK) if url else None
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean_window_minutes(self) -> int:
        minutes = int(self.cleaned_data.get("window_minutes") or 0)
        if not 1 <= minutes <= 7 * 24 * 60:
            raise forms.ValidationError("Between 1 minute and 7 days.")
        return minutes

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        agent_id, workspace = cleaned.get("agent_id"), cleaned.get("workspace")
        # By string, like the model: analytics stores agents by id and imports nothing of them.
        agents = apps.get_model("agents", "Agent").objects
        if (
            agent_id
            and workspace
            and not agents.filter(public_id=agent_id, workspace=workspace).exists()
        ):
            self.add_error("agent_id", "No agent of this workspace has this id.")
        if not cleaned.get("emails") and not cleaned.get("webhook_url"):
            self.add_error("emails", "Give at least one address or a webhook URL.")
        return cleaned


@admin.register(AlertRule)
class AlertRuleAdmin(WorkspaceScopedAdmin):
    form = AlertRuleForm
    list_display = [
        "name",
        "metric",
        "comparison",
        "threshold",
        "window_minutes",
        "agent_id",
        "is_active",
        "state",
    ]
    list_filter = ["metric", "is_active", "workspace"]
    search_fields = ["name", "agent_id"]

    @admin.display(description="State")
    def state(self, rule: AlertRule) -> str:
        current = rule.events.filter(resolved_at__isnull=True).first()
        return f"FIRING since {current.fired_at:%Y-%m-%d %H:%M}" if current else "ok"


@admin.register(AlertEvent)
class AlertEventAdmin(ReadOnlyScopedAdmin):
    list_display = ["rule", "value", "fired_at", "resolved_at", "notified_at", "notify_error"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "rule__workspace"]
    search_fields = ["rule__name"]
    date_hierarchy = "fired_at"
    list_select_related = ["rule"]


@admin.register(WidgetEvent)
class WidgetEventAdmin(ReadOnlyScopedAdmin):
    list_display = ["event", "agent_id", "domain", "session_id", "created_at"]
    list_filter = ["event", "workspace"]
    search_fields = ["agent_id", "domain", "session_id"]
    date_hierarchy = "created_at"


@admin.register(DailyEventCount)
class DailyEventCountAdmin(ReadOnlyScopedAdmin):
    list_display = ["day", "agent_id", "event", "count", "computed_at"]
    list_filter = ["event", "day"]
    search_fields = ["agent_id"]
