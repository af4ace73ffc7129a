"""Webhooks in the admin: endpoints (the secret shown once, on creation or rotation), the
delivery log (request, answer, attempts) with "redeliver", and "send test event"."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from core.errors import ApiError
from webhooks.delivery import EVENT_TYPES, delivery_redeliver
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_resume,
    webhook_endpoint_update,
    webhook_secret_rotate,
    webhook_test_send,
)
from workspaces.scoped_admin import ReadOnlyScopedAdmin, WorkspaceScopedAdmin, form_for_user


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(kind, kind) for kind in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["workspace", "url", "events", "is_active"]

    def __init__(self, *args: Any, request_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_user = request_user


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(WorkspaceScopedAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "workspace", "event_list", "state", "consecutive_failures"]
    list_filter = ["workspace", "is_active"]
    search_fields = ["url"]
    readonly_fields = ["public_id", "paused_at", "consecutive_failures", "deliveries_link"]
    actions = ["send_test_event", "resume", "rotate_secret"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        return form_for_user(super().get_form(request, obj, change, **kwargs), request.user)

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        try:
            if change:
                webhook_endpoint_update(
                    obj, url=data["url"], events=data["events"], by=request.user
                )
                if "is_active" in form.changed_data:
                    obj.save(update_fields=["is_active"])
                return
            created, secret = webhook_endpoint_create(
                workspace=data["workspace"], url=data["url"], events=data["events"], by=request.user
            )
        except ApiError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk, obj._state.adding = created.pk, False
        self.message_user(
            request,
            f"Signing secret (shown once, keep it): {secret}",
            messages.WARNING,
        )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        webhook_endpoint_delete(obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint, by=request.user)

    @admin.display(description="events")
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    @admin.display(description="state")
    def state(self, obj: WebhookEndpoint) -> str:
        if obj.paused_at is not None:
            return "paused (deliveries kept failing)"
        return "active" if obj.is_active else "off"

    @admin.display(description="deliveries")
    def deliveries_link(self, obj: WebhookEndpoint) -> str:
        if not obj.pk:
            return "—"
        url = f"../../../webhookdelivery/?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">The delivery log</a>', url)

    @admin.action(description="Send a test event")
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            try:
                webhook_test_send(endpoint)
            except ApiError as exc:
                self.message_user(request, f"{endpoint}: {exc.message}", messages.ERROR)
        self.message_user(request, "Test events queued; see the delivery log.")

    @admin.action(description="Resume (send again)")
    def resume(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_resume(endpoint, by=request.user)

    @admin.action(description="Rotate the signing secret (the old one signs for a day)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            secret = webhook_secret_rotate(endpoint, by=request.user)
            self.message_user(
                request, f"{endpoint}: new secret (shown once): {secret}", messages.WARNING
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyScopedAdmin):
    """The delivery log: what was sent, what came back, every attempt counted."""

    deletable = False
    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "event_type", ("endpoint", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["event_id"]
    exclude = ["payload"]  # shown formatted, as `request_body`
    readonly_fields = ["request_body", "last_response", "last_error"]
    actions = ["redeliver"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).select_related("endpoint")

    @admin.display(description="request body")
    def request_body(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2))

    def has_redeliver_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The workspace's owners and admins (the rule for changing anything scoped)."""
        return WorkspaceScopedAdmin.has_change_permission(self, request, obj)

    @admin.action(description="Redeliver (same event id)", permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            delivery_redeliver(delivery)
        self.message_user(request, f"{queryset.count()} delivery(ies) queued again.")
