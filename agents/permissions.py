"""Who may change what in a workspace: its owners and admins manage, members read and chat.

The rule itself (`security.scoping.role_permits`) is shared with the admin, which judges
every add, change, delete and action by the role in the object's own workspace.
"""

from __future__ import annotations

from typing import Any

from agents.models import Membership
from security.scoping import MANAGER_ROLES, role_permits

__all__ = ["MANAGER_ROLES", "is_member", "may_manage", "workspace_role"]


def workspace_role(user: Any, workspace_id: int | None) -> str | None:
    """The person's role in this very workspace (None: not a member)."""
    if workspace_id is None or not getattr(user, "is_authenticated", False):
        return None
    role = (
        Membership.objects.filter(user_id=user.pk, workspace_id=workspace_id)
        .values_list("role", flat=True)
        .first()
    )
    return str(role) if role is not None else None


def may_manage(user: Any, workspace_id: int) -> bool:
    """Owner or admin of this very workspace (a role elsewhere does not count)."""
    if getattr(user, "is_superuser", False):
        return True
    key_workspace = getattr(user, "api_workspace_id", None)
    if key_workspace is not None:  # a workspace API key
        return bool(key_workspace == workspace_id and user.can_write)
    return role_permits(workspace_role(user, workspace_id))


def is_member(user: Any, workspace_id: int) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    key_workspace = getattr(user, "api_workspace_id", None)
    if key_workspace is not None:
        return bool(key_workspace == workspace_id)
    return Membership.objects.filter(user_id=user.pk, workspace_id=workspace_id).exists()
