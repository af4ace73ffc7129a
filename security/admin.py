"""The admin's half of workspace scoping: querysets, choices and permissions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from security.scoping import scope_to_user

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

    def _may_edit(self, request: HttpRequest) -> bool:
        if request.user.is_superuser:
            return True
        roles = _roles(request)
        return bool(roles & set(MANAGER_ROLES)) or (self.agents_may_edit and bool(roles))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(_roles(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or bool(_roles(request))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._may_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)


class ScopedChoicesMixin:
    """Foreign-key choices limited to the user's workspaces."""

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        related: type[Model] = db_field.related_model
        if field is not None and hasattr(related, "workspace_path"):
            field.queryset = scope_to_user(field.queryset, request.user)  # type: ignore[arg-type]
        return field


class WorkspaceScopedAdmin(MembershipPermissions, ScopedChoicesMixin, admin.ModelAdmin):
    """A staff member sees and edits only their workspaces' rows; superusers see all."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_to_user(super().get_queryset(request), request.user)  # type: ignore[arg-type]


class WorkspaceScopedInline(MembershipPermissions, ScopedChoicesMixin):
    """Mix into an inline: the parent is already scoped; permissions follow membership."""
