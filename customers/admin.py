from __future__ import annotations

from django.contrib import admin

from customers.models import Customer
from security.admin import WorkspaceScopedAdmin


@admin.register(Customer)
class CustomerAdmin(WorkspaceScopedAdmin):
    agents_may_edit = True
    list_display = ["__str__", "external_id", "email", "is_verified", "workspace", "last_seen_at"]
    list_filter = ["is_verified", "workspace"]
    search_fields = ["external_id", "email", "name"]
    readonly_fields = ["created_at", "last_seen_at"]
