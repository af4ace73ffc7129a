from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from customers.models import Customer, CustomerMemory
from customers.profiles import customer_erase, memory_correct, memory_forget, memory_remember
from workspaces.scoped_admin import WorkspaceScopedAdmin, WorkspaceScopedInline

RECENT_CONVERSATIONS = 20


class CustomerMemoryInline(WorkspaceScopedInline, admin.TabularInline):
    """What the agent remembers: staff read, correct, add and delete facts."""

    model = CustomerMemory
    agents_may_edit = True
    extra = 1
    fields = ["key", "value", "source", "source_ref", "updated_at"]
    readonly_fields = ["source", "source_ref", "updated_at"]
    verbose_name = "memory"
    verbose_name_plural = "What the agent remembers"
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}
    }


@admin.register(Customer)
class CustomerAdmin(WorkspaceScopedAdmin):
    agents_may_edit = True
    list_display = ["__str__", "external_id", "email", "is_verified", "workspace", "last_seen_at"]
    list_filter = ["is_verified", "workspace"]
    search_fields = ["external_id", "email", "name"]
    readonly_fields = [
        "external_id",
        "is_verified",
        "identity_note",
        "created_at",
        "last_seen_at",
        "conversation_list",
        "data_export",
    ]
    fields = [
        "workspace",
        "external_id",
        "is_verified",
        "identity_note",
        "name",
        "email",
        "attributes",
        "created_at",
        "last_seen_at",
        "conversation_list",
        "data_export",
    ]
    inlines = [CustomerMemoryInline]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # customers come from the widget (or the API), keyed by the site's ids

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Erasing a customer is for the workspace's owners and admins, as in the REST API.
        return self._may_edit(request, obj, managers_only=True)

    def delete_model(self, request: HttpRequest, obj: Customer) -> None:
        customer_erase(customer=obj, by=request.user)  # audited, like the API's erasure

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        for customer in queryset:
            customer_erase(customer=customer, by=request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "workspace"] if obj else list(self.readonly_fields)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Facts through the same services as the API: a new one is remembered as staff's,
        a changed one corrected, a removed one forgotten."""
        memories = formset.save(commit=False)
        for memory in formset.deleted_objects:
            memory_forget(memory)
        for memory in memories:
            if memory.pk is None:
                memory_remember(
                    customer=form.instance,
                    key=memory.key,
                    value=memory.value,
                    source=CustomerMemory.Source.STAFF,
                    source_ref=request.user.get_username(),
                )
            else:
                memory_correct(memory, value=memory.value, key=memory.key)

    @admin.display(description="Their data")
    def data_export(self, obj: Customer) -> str:
        """An access request answered in one click (owners and admins; audited)."""
        if not obj.pk:
            return "—"
        url = reverse("customer-export", args=[obj.pk])
        return format_html(
            '<a href="{}" download>Export everything we hold (JSON)</a>; erase it with '
            '"Delete" below.',
            url,
        )

    @admin.display(description="Identity")
    def identity_note(self, obj: Customer) -> str:
        if obj.is_verified:
            return "Verified: the site signed this customer's id (customerToken or userHash)."
        return (
            "Unverified: the page claimed this id. It never sees, nor changes, the "
            "verified customer with the same id."
        )

    @admin.display(description="Conversations")
    def conversation_list(self, obj: Customer) -> str:
        rows = obj.conversations.select_related("agent").order_by("-updated_at")[
            :RECENT_CONVERSATIONS
        ]
        if not rows:
            return "None yet."
        return format_html(
            "<ul style='margin:0;padding-left:1.2em'>{}</ul>",
            format_html_join(
                "",
                "<li><a href='{}'>{}</a> · {} · {} · {}</li>",
                (
                    (
                        reverse("admin:conversations_conversation_change", args=[c.pk]),
                        c.public_id,
                        c.agent.name,
                        c.get_status_display(),
                        c.updated_at.strftime("%Y-%m-%d %H:%M"),
                    )
                    for c in rows
                ),
            ),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return super().get_queryset(request).select_related("workspace")
