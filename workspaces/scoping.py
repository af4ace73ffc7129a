"""Workspace scoping, written once and used by the admin, the REST API and websockets.

Every tenant-owned model declares `workspace_path`, the ORM path from it to its
Workspace. A staff user sees the rows of the workspaces they are a member of (through
`Membership`, the `memberships` of a Workspace); a superuser sees everything. Who may
*change* a row is `workspaces.permissions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from django.db.models import Model, QuerySet

from workspaces.models import Membership

M = TypeVar("M", bound=Model)


class ScopedUser(Protocol):
    is_superuser: bool
    is_authenticated: bool
    pk: Any


def workspace_lookup(model: type[Model]) -> str:
    path = getattr(model, "workspace_path", None)
    if path is None:
        raise TypeError(f"{model.__name__} declares no workspace_path")
    return str(path)


def scope_to_user(queryset: QuerySet[M], user: ScopedUser | None) -> QuerySet[M]:
    """Only the rows of `queryset` that belong to a workspace `user` is a member of."""
    if user is None or not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    workspace_id = f"{path}__id" if (path := workspace_lookup(queryset.model)) else "pk"
    # A workspace API key (workspaces.api_keys) sees exactly its own workspace.
    key_workspace = getattr(user, "api_workspace_id", None)
    if key_workspace is not None:
        return queryset.filter(**{workspace_id: key_workspace})
    members_of = Membership.objects.filter(user_id=user.pk).values("workspace_id")
    return queryset.filter(**{f"{workspace_id}__in": members_of})


def scope_to_workspaces(queryset: QuerySet[M], workspace_ids: Iterable[int]) -> QuerySet[M]:
    """Only the rows of `queryset` that belong to one of `workspace_ids`."""
    path = workspace_lookup(queryset.model)
    return queryset.filter(**{f"{path}__id__in" if path else "pk__in": list(workspace_ids)})


def workspace_id_of(obj: Model) -> int | None:
    """The id of the workspace `obj` belongs to, following its model's workspace_path."""
    path = workspace_lookup(type(obj))
    if not path:
        return int(obj.pk) if obj.pk is not None else None
    *hops, last = path.split("__")
    current: Any = obj
    for hop in hops:
        current = getattr(current, hop, None)
        if current is None:
            return None
    value = getattr(current, f"{last}_id", None)
    return int(value) if value is not None else None
