"""API keys in the admin: create (the key is shown once, on that page only) and revoke."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from agents.api_keys import api_key_issue, api_key_revoke
from agents.models import ApiKey
from agents.permissions import may_manage
from security.admin import WorkspaceScopedAdmin
from security.scoping import scope_to_workspaces


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

    def has_revoke_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        # The keys of the workspaces this user manages: a support agent sees none.
        keys = super().get_queryset(request)
        if request.user.is_superuser:
            return keys
        return scope_to_workspaces(keys, self.editable_workspace_ids(request))

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

    @admin.action(description="Revoke the selected keys", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        # Every selected key's workspace is checked first (WorkspaceScopedAdmin).
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key, actor=request.user)
            revoked += 1
        messages.success(request, f"{revoked} key(s) revoked.")
