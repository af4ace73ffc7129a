"""Workspace scoping, written once and used by the admin, the REST API and websockets.

Every tenant-owned model declares `workspace_path`, the ORM path from it to its
Workspace. A staff user sees the rows of the workspaces they are a member of; a
superuser sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# The roles of agents.Membership that manage a workspace: owners and admins change its
# settings and people; support agents read, chat, and change only what members may.
# (Spelled out here because security imports nothing of the other apps.)
MANAGER_ROLES = ("owner", "admin")


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
    path = workspace_lookup(queryset.model)
    prefix = f"{path}__" if path else ""
    # A workspace API key (agents.api_keys) sees exactly its own workspace.
    key_workspace = getattr(user, "api_workspace_id", None)
    if key_workspace is not None:
        return queryset.filter(**{f"{prefix}id" if path else "pk": key_workspace})
    return queryset.filter(**{f"{prefix}memberships__user": user.pk}).distinct()


def role_permits(role: str | None, *, members_may: bool = False) -> bool:
    """The rule, for one role in one workspace: managers may change; members only where
    `members_may` (the support desk's own work); no role (not a member) never."""
    return role in MANAGER_ROLES or (members_may and role is not None)


def workspace_roles(user: ScopedUser | None) -> dict[int, str]:
    """`{workspace id: role}` for every workspace a signed-in person is a member of (an
    API key, an anonymous user: none)."""
    if user is None or not user.is_authenticated:
        return {}
    if getattr(user, "api_workspace_id", None) is not None:
        return {}
    memberships = user.memberships  # type: ignore[attr-defined]  # agents.Membership
    return dict(memberships.values_list("workspace_id", "role"))


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
