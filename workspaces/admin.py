"""The tenancy admin: workspaces, their people (every change through
workspaces.memberships, audited), their API keys (the key is shown once, on its
creation page only; keys are revoked, never edited or deleted) and their security
records (security's models: IP blocks through security.blocks, the audit log and abuse
events read-only), each scoped to the user's workspaces (workspaces.scoped_admin)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from core.errors import ApiError
from security.blocks import ip_block_remove, ip_block_save
from security.models import AbuseEvent, AuditEntry, IpBlock
from workspaces.api_keys import api_key_issue, api_key_revoke
from workspaces.memberships import (
    membership_add,
    membership_change_problem,
    membership_remove,
    membership_role_change,
)
from workspaces.models import ApiKey, Membership, Workspace
from workspaces.permissions import may_manage
from workspaces.scoped_admin import ReadOnlyScopedAdmin, WorkspaceScopedAdmin, form_for_user
from workspaces.scoping import scope_to_workspaces


@admin.register(Workspace)
class WorkspaceAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser


class MembershipForm(forms.ModelForm):
    """Shows why a change to the workspace's people is refused before anything is saved
    (workspaces.memberships asks the same question again when it writes)."""

    class Meta:
        model = Membership
        fields = ["workspace", "user", "role"]

    def __init__(self, *args: Any, request_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_user = request_user

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        workspace = cleaned.get("workspace") or getattr(self.instance, "workspace", None)
        user_id = cleaned["user"].pk if cleaned.get("user") else self.instance.user_id
        role = cleaned.get("role")
        if workspace is not None and user_id is not None and role:
            problem = membership_change_problem(
                by=self.request_user,
                workspace_id=workspace.pk,
                user_id=user_id,
                role_from=self.instance.role if self.instance.pk else None,
                role_to=role,
            )
            if problem:
                raise forms.ValidationError(problem)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(WorkspaceScopedAdmin):
    """Every add, role change and removal goes through workspaces.memberships (audited)."""

    form = MembershipForm
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "user__email", "workspace__name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A membership changes its role; another person or workspace is another membership.
        return ["workspace", "user"] if obj is not None else []

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        return form_for_user(form_class, request.user)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name == "user" and not request.user.is_superuser:
            # Only people already in one of your workspaces, never the whole user table.
            field.queryset = (
                get_user_model()
                .objects.filter(memberships__workspace__memberships__user=request.user.pk)
                .distinct()
            )
        return field

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or not membership_change_problem(
            by=request.user,
            workspace_id=obj.workspace_id,
            user_id=obj.user_id,
            role_from=obj.role,
            role_to=None,
        )

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        try:
            if change:
                membership_role_change(membership=obj, role=obj.role, by=request.user)
            else:
                obj.pk = membership_add(
                    workspace=obj.workspace, user=obj.user, role=obj.role, by=request.user
                ).pk
        except ApiError as exc:  # changed by someone else since the form was checked
            raise PermissionDenied(exc.message) from None

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        try:
            membership_remove(membership=obj, by=request.user)
        except ApiError as exc:
            raise PermissionDenied(exc.message) from None

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset:
            self.delete_model(request, membership)


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
        response = TemplateResponse(request, "admin/workspaces/apikey/created.html", context)
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


# --- The workspace's security records ---------------------------------------------


class IpBlockForm(forms.ModelForm):
    class Meta:
        model = IpBlock
        fields = ["network", "workspace", "reason", "expires_at"]

    def __init__(self, *args: Any, request_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_user = request_user

    def clean_workspace(self) -> Any:
        workspace = self.cleaned_data.get("workspace")
        if workspace is None and not getattr(self.request_user, "is_superuser", False):
            raise forms.ValidationError("Choose the workspace this block applies to.")
        return workspace


@admin.register(IpBlock)
class IpBlockAdmin(WorkspaceScopedAdmin):
    form = IpBlockForm
    list_display = ["network", "reason", "workspace", "source", "expires_at", "created_by"]
    list_filter = ["source", "workspace"]
    search_fields = ["network", "reason"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        return form_for_user(form_class, request.user)

    def save_model(self, request: HttpRequest, obj: IpBlock, form: Any, change: bool) -> None:
        changes = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
        ip_block_save(obj, actor=request.user, changes=changes, created=not change)

    def delete_model(self, request: HttpRequest, obj: IpBlock) -> None:
        ip_block_remove(obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[IpBlock]) -> None:
        for block in queryset:  # one audit entry per block, as from its own page
            self.delete_model(request, block)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyScopedAdmin):
    """Read-only: the record of who changed what is not editable, not even by its authors."""

    list_display = ["created_at", "action", "target", "actor_display", "workspace"]
    list_filter = ["action", "workspace"]
    search_fields = ["target", "actor__username", "actor_label"]
    date_hierarchy = "created_at"
    deletable = False


@admin.register(AbuseEvent)
class AbuseEventAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "action", "score", "visitor_id", "ip", "agent_id"]
    list_filter = ["action", "workspace"]
    search_fields = ["visitor_id", "ip", "agent_id"]
    date_hierarchy = "created_at"
