from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from analytics import admin_monitoring  # noqa: F401  (registers error groups and alerts)
from analytics.models import DailyEventCount, WidgetEvent
from security.admin import WorkspaceScopedAdmin


@admin.register(WidgetEvent)
class WidgetEventAdmin(WorkspaceScopedAdmin):
    list_display = ["event", "agent_id", "domain", "session_id", "created_at"]
    list_filter = ["event", "workspace"]
    search_fields = ["agent_id", "domain", "session_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DailyEventCount)
class DailyEventCountAdmin(WorkspaceScopedAdmin):
    list_display = ["day", "agent_id", "event", "count", "computed_at"]
    list_filter = ["event", "day"]
    search_fields = ["agent_id"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # computed by Celery; recomputed whole
