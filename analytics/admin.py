from __future__ import annotations

from django.contrib import admin

from analytics.models import DailyEventCount, WidgetEvent
from security.admin import WorkspaceScopedAdmin


@admin.register(WidgetEvent)
class WidgetEventAdmin(WorkspaceScopedAdmin):
    list_display = ["event", "agent_id", "domain", "session_id", "created_at"]
    list_filter = ["event", "workspace"]
    search_fields = ["agent_id", "domain", "session_id"]
    date_hierarchy = "created_at"


@admin.register(DailyEventCount)
class DailyEventCountAdmin(WorkspaceScopedAdmin):
    list_display = ["day", "agent_id", "event", "count", "computed_at"]
    list_filter = ["event", "day"]
    search_fields = ["agent_id"]
