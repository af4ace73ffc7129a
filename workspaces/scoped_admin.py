"""The admin's half of workspace scoping: querysets, choices, permissions and filters.

One rule, judged in the object's own workspace (`workspaces.permissions.role_permits`): its
owners and admins change it; its support agents only where the admin says members may
(`agents_may_edit`); anyone else, nothing. A manager role elsewhere never counts here.
The rule covers every way the admin writes: the add and change forms (the workspace the
submitted form chooses, so moving an object counts in both workspaces), inlines, the
changelist's editable rows and every action (each selected object). Choices and filters
offer only what the user may use or see.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse

from workspaces.permissions import MANAGER_ROLES, role_permits, workspace_roles
from workspaces.scoping import (
    scope_to_user,
    scope_to_workspaces,
    workspace_id_of,
    workspace_lookup,
)

__all__ = [
    "MANAGER_ROLES",
    "ReadOnlyScopedAdmin",
    "WorkspaceScopedAdmin",
    "WorkspaceScopedInline",
    "form_for_user",
]

logger = logging.getLogger("customeragent.security")  # refusals, with the security log

REFUSED = "Your role in this workspace does not allow this: ask one of its owners or admins."

WorkspaceCheck = Callable[[int | None], bool]


def _roles(request: HttpRequest) -> dict[int, str]:
    """The staff user's role in each of their workspaces, read once per request."""
    user = request.user
    if not user.is_authenticated or not user.is_staff:
        return {}
    cached: dict[int, str] | None = getattr(request, "_workspace_roles", None)
    if cached is None:
        cached = workspace_roles(user)
        request._workspace_roles = cached  # type: ignore[attr-defined]
    return cached


class MembershipPermissions:
    """Admin permissions from workspace membership instead of Django's per-model grants.

    Members with the owner or admin role may change things; support agents may change
    only where `agents_may_edit` is set, and view everything else in their workspaces.
    """

    agents_may_edit = False

    def may_edit_in(
        self, request: HttpRequest, workspace_id: int | None, *, managers_only: bool = False
    ) -> bool:
        """May this user add, change or delete this model's rows in that workspace?
        No workspace (a platform-wide row) is for superusers only."""
        if request.user.is_superuser:
            return True
        if workspace_id is None:
            return False
        members_may = self.agents_may_edit and not managers_only
        return role_permits(_roles(request).get(workspace_id), members_may=members_may)

    def editable_workspace_ids(self, request: HttpRequest) -> set[int]:
        return {
            workspace_id
            for workspace_id, role in _roles(request).items()
            if role_permits(role, members_may=self.agents_may_edit)
        }

    def _may_edit(
        self, request: HttpRequest, obj: Any = None, *, managers_only: bool = False
    ) -> bool:
        """With an object, judged by the role in *its* workspace: an owner elsewhere is a
        support agent here if that is their role here. Without one (the add button, the
        changelist), whether there is any workspace to do it in; the workspace a form
        then chooses is judged when it is submitted (`workspace_checked_form`).
        `managers_only`: what even a members-may-edit page keeps for owners and admins."""
        if request.user.is_superuser:
            return True
        if isinstance(obj, Model) and obj.pk is not None:
            return self.may_edit_in(request, workspace_id_of(obj), managers_only=managers_only)
        return any(
            self.may_edit_in(request, workspace_id, managers_only=managers_only)
            for workspace_id in _roles(request)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(_roles(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or bool(_roles(request))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # An inline is asked with its parent object: the parent's workspace decides.
        return self._may_edit(request, args[0] if args else None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request, obj)


def form_for_user(form_class: Any, user: Any) -> Any:
    """`form_class`, built with `request_user=user`: for forms whose rules or audit entries
    depend on who submits them."""

    class WithUser(form_class):
        def __init__(self, *args: Any, **inner: Any) -> None:
            super().__init__(*args, request_user=user, **inner)

    return WithUser


def workspace_checked_form(
    form_class: Any, request: HttpRequest, may_edit_in: WorkspaceCheck
) -> Any:
    """`form_class`, refusing (a form error, nothing stored) an object whose workspace —
    as the submitted form builds it — the user may not edit in."""

    class WorkspaceChecked(form_class):
        def _post_clean(self) -> None:
            super()._post_clean()
            workspace_id = workspace_id_of(self.instance)
            if may_edit_in(workspace_id):
                return
            if workspace_id is None and self._errors:
                return  # the missing workspace (or agent) is already reported
            first_hop = workspace_lookup(type(self.instance)).split("__")[0]
            field = self.fields.get(first_hop)
            name = first_hop if field is not None and not field.widget.is_hidden else None
            logger.warning(
                "admin refused saving a %s by user %s in workspace %s",
                type(self.instance).__name__,
                request.user.pk,
                workspace_id,
            )
            self.add_error(name, REFUSED)

    WorkspaceChecked.__name__ = form_class.__name__
    return WorkspaceChecked


def workspace_checked_formset(
    formset_class: Any, request: HttpRequest, may_edit_in: WorkspaceCheck
) -> Any:
    """An inline formset refusing any added, changed or deleted row unless the user may
    edit in its parent's workspace — the workspace the parent's form has just chosen."""

    class WorkspaceChecked(formset_class):
        def clean(self) -> None:
            super().clean()
            # Django's inline forms already report no change where the user may not
            # change or add (DeleteProtectedModelForm), judged before the parent's form
            # chose its workspace; this judges the rows in the workspace it chose.
            touched = any(
                form.has_changed() or (self.can_delete and self._should_delete_form(form))
                for form in self.forms
            )
            workspace_id = workspace_id_of(self.instance)
            if touched and not may_edit_in(workspace_id):
                logger.warning(
                    "admin refused inline %s by user %s in workspace %s",
                    self.model.__name__,
                    request.user.pk,
                    workspace_id,
                )
                raise forms.ValidationError(REFUSED)

    WorkspaceChecked.__name__ = formset_class.__name__
    return WorkspaceChecked


class ScopedChoicesMixin(MembershipPermissions):
    """Foreign-key choices limited to the workspaces the user may edit this model in
    (for a managers-only model: the ones they manage, not merely belong to); the only
    choice, when there is just one (a new member's one workspace, its one agent), comes
    preselected."""

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        related: type[Model] = db_field.related_model
        if field is not None and hasattr(related, "workspace_path"):
            if not request.user.is_superuser:
                field.queryset = scope_to_workspaces(
                    field.queryset, self.editable_workspace_ids(request)
                )
            only = list(field.queryset.values_list("pk", flat=True)[:2])
            if len(only) == 1 and field.initial is None:
                field.initial = only[0]
        return field


class ScopedRelatedFieldListFilter(admin.RelatedOnlyFieldListFilter):
    """A changelist filter over a relation that lists only what the user can see: the
    workspaces (agents, servers…) they are a member of; for other relations (people),
    only the values their own rows refer to."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        related = field.related_model
        if not hasattr(related, "workspace_path"):
            return super().field_choices(field, request, model_admin)
        visible = scope_to_user(related._default_manager.all(), request.user)  # type: ignore[arg-type]
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False,
            limit_choices_to={"pk__in": visible.values("pk")},
            ordering=ordering,
        )


def scoped_list_filter(model: type[Model], entry: Any) -> Any:
    """A `list_filter` entry, with a filter over a relation made a scoped one."""
    if isinstance(entry, str):
        field = get_fields_from_path(model, entry)[-1]
        return (entry, ScopedRelatedFieldListFilter) if field.is_relation else entry
    if isinstance(entry, (list, tuple)) and entry[1] is admin.RelatedFieldListFilter:
        return (entry[0], ScopedRelatedFieldListFilter)
    return entry


class WorkspaceScopedAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """A staff member sees their workspaces' rows, and changes them as their role in each
    allows; superusers see and change all."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_to_user(super().get_queryset(request), request.user)  # type: ignore[arg-type]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        check = functools.partial(self.may_edit_in, request)
        return workspace_checked_form(form_class, request, check)

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        form_class = super().get_changelist_form(request, **kwargs)
        check = functools.partial(self.may_edit_in, request)
        return workspace_checked_form(form_class, request, check)

    def get_list_filter(self, request: HttpRequest) -> Any:
        entries = super().get_list_filter(request) or ()
        return [scoped_list_filter(self.model, entry) for entry in entries]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {
            name: (self._checked_action(action[0]), name, action[2])
            for name, action in super().get_actions(request).items()
            if action is not None
        }

    def _checked_action(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """The action, run only if the user may do it to every selected object (the
        action's `allowed_permissions`, else "change", in each object's workspace)."""
        permissions = getattr(func, "allowed_permissions", None) or ("change",)

        @functools.wraps(func)
        def checked(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
            refused = [
                obj
                for obj in queryset
                if not all(
                    getattr(model_admin, f"has_{permission}_permission")(request, obj)
                    for permission in permissions
                )
            ]
            if refused:
                logger.warning(
                    "admin refused action %s by user %s in workspace %s",
                    func.__name__,
                    request.user.pk,
                    workspace_id_of(refused[0]),
                )
                model_admin.message_user(
                    request,
                    f"Nothing was done: your role in their workspace does not allow this on "
                    f"{len(refused)} of the selected rows.",
                    messages.ERROR,
                )
                return None
            response: HttpResponse | None = func(model_admin, request, queryset)
            return response

        return checked


class ReadOnlyScopedAdmin(WorkspaceScopedAdmin):
    """Records the platform writes (events, counts, audit, tool calls): staff read them in
    their workspaces, nobody adds or edits them, and deleting is off where `deletable` says."""

    deletable: bool = True

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.deletable and super().has_delete_permission(request, obj)


class WorkspaceScopedInline(ScopedChoicesMixin):
    """Mix into an inline: the parent is already scoped; permissions follow membership in
    the parent's workspace, as the parent's submitted form chooses it."""

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset_class = super().get_formset(request, obj, **kwargs)  # type: ignore[misc]
        check = functools.partial(self.may_edit_in, request)
        return workspace_checked_formset(formset_class, request, check)
