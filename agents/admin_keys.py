"""API keys in the admin: create (the key is shown once, on that page only) and revoke."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from agents.api_keys import api_key_issue, api_key_revoke
from agents.models import ApiKey
from agents.permissions import MANAGER_ROLES, may_manage
from security.admin import WorkspaceScopedAdmin


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["workspace", "name", "can_write"]


@admin.register(ApiKey)
class ApiKeyAdmin(WorkspaceScopedAdmin):
    form = ApiKeyForm
    list_display = [
        "name",
        "key_hint",
        "workspace",
        "can_write",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["workspace", "can_write"]
    readonly_fields = ["key_hint", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a key is issued or revoked, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked keys stay, for the record

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and (
            obj is None or may_manage(request.user, obj.workspace_id)
        )

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if (
            field is not None
            and field.queryset is not None
            and db_field.name == "workspace"
            and not request.user.is_superuser
        ):
            # Only workspaces this user manages (a role elsewhere does not count).
            field.queryset = field.queryset.filter(
                memberships__user=request.user.pk, memberships__role__in=MANAGER_ROLES
            ).distinct()
        return field

    @admin.display(description="Key")
    def key_hint(self, obj: ApiKey) -> str:
        return f"ca_{obj.prefix}_…"

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        issued, plain = api_key_issue(
            workspace_id=obj.workspace_id,
            name=obj.name,
            can_write=obj.can_write,
            actor=request.user,
        )
        obj.pk, obj.prefix = issued.pk, issued.prefix
        request._issued_api_key = plain  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: Any = None
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "API key created",
            "opts": self.model._meta,
            "key": obj,
            "plain": getattr(request, "_issued_api_key", ""),
        }
        response = TemplateResponse(request, "admin/agents/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            if may_manage(request.user, key.workspace_id):
                api_key_revoke(key, actor=request.user)
                revoked += 1
        messages.success(request, f"{revoked} key(s) revoked.")
