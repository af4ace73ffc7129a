"""The admin's half of workspace scoping: querysets, choices and permissions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from security.audit import audit_record
from security.models import AbuseEvent, AuditEntry, IpBlock
from security.scoping import scope_to_user, workspace_id_of

MANAGER_ROLES = ("owner", "admin")


def _roles(request: HttpRequest) -> set[str]:
    user = request.user
    if not user.is_authenticated or not user.is_staff:
        return set()
    cached = getattr(request, "_workspace_roles", None)
    if cached is None:
        cached = set(user.memberships.values_list("role", flat=True))
        request._workspace_roles = cached  # type: ignore[attr-defined]
    return set(cached)


class MembershipPermissions:
    """Admin permissions from workspace membership instead of Django's per-model grants.

    Members with the owner or admin role may change things; support agents may change
    only where `agents_may_edit` is set, and view everything else in their workspaces.
    """

    agents_may_edit = False

    def _may_edit(self, request: HttpRequest, obj: Any = None) -> bool:
        """With an object, judged by the role in *its* workspace: an owner elsewhere is a
        support agent here if that is their role here."""
        if request.user.is_superuser:
            return True
        workspace_id = workspace_id_of(obj) if isinstance(obj, Model) and obj.pk else None
        if workspace_id is not None:
            roles = set(
                request.user.memberships.filter(workspace_id=workspace_id).values_list(  # type: ignore[union-attr]
                    "role", flat=True
                )
            )
        else:
            roles = _roles(request)
        return bool(roles & set(MANAGER_ROLES)) or (self.agents_may_edit and bool(roles))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(_roles(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or bool(_roles(request))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._may_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, obj)


class ScopedChoicesMixin:
    """Foreign-key choices limited to the user's workspaces; the only choice, when there is
    just one (a new member's one workspace, its one agent), comes preselected."""

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        related: type[Model] = db_field.related_model
        if field is not None and hasattr(related, "workspace_path"):
            field.queryset = scope_to_user(field.queryset, request.user)  # type: ignore[arg-type]
            only = list(field.queryset.values_list("pk", flat=True)[:2])
            if len(only) == 1 and field.initial is None:
                field.initial = only[0]
        return field


class WorkspaceScopedAdmin(MembershipPermissions, ScopedChoicesMixin, admin.ModelAdmin):
    """A staff member sees and edits only their workspaces' rows; superusers see all."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_to_user(super().get_queryset(request), request.user)  # type: ignore[arg-type]


class WorkspaceScopedInline(MembershipPermissions, ScopedChoicesMixin):
    """Mix into an inline: the parent is already scoped; permissions follow membership."""


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

        class WithUser(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **inner: Any) -> None:
                super().__init__(*args, request_user=request.user, **inner)

        return WithUser

    def save_model(self, request: HttpRequest, obj: IpBlock, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        audit_record(
            action="ip_block.changed" if change else "ip_block.added",
            target=obj.network,
            actor=request.user,
            workspace_id=obj.workspace_id,
            changes={name: str(form.cleaned_data.get(name)) for name in form.changed_data},
        )

    def delete_model(self, request: HttpRequest, obj: IpBlock) -> None:
        audit_record(
            action="ip_block.removed",
            target=obj.network,
            actor=request.user,
            workspace_id=obj.workspace_id,
            changes={"reason": obj.reason},
        )
        super().delete_model(request, obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(WorkspaceScopedAdmin):
    """Read-only: the record of who changed what is not editable, not even by its authors."""

    list_display = ["created_at", "action", "target", "actor", "workspace"]
    list_filter = ["action", "workspace"]
    search_fields = ["target", "actor__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AbuseEvent)
class AbuseEventAdmin(WorkspaceScopedAdmin):
    list_display = ["created_at", "action", "score", "visitor_id", "ip", "agent_id"]
    list_filter = ["action", "workspace"]
    search_fields = ["visitor_id", "ip", "agent_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
