"""Who may change what in a workspace: its owners and admins manage, members read and chat."""

from __future__ import annotations

from typing import Any

from agents.models import Membership

MANAGER_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def may_manage(user: Any, workspace_id: int) -> bool:
    """Owner or admin of this very workspace (a role elsewhere does not count)."""
    if getattr(user, "is_superuser", False):
        return True
    key_workspace = getattr(user, "api_workspace_id", None)
    if key_workspace is not None:  # a workspace API key
        return bool(key_workspace == workspace_id and user.can_write)
    return Membership.objects.filter(
        user_id=user.pk, workspace_id=workspace_id, role__in=MANAGER_ROLES
    ).exists()


def is_member(user: Any, workspace_id: int) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    key_workspace = getattr(user, "api_workspace_id", None)
    if key_workspace is not None:
        return bool(key_workspace == workspace_id)
    return Membership.objects.filter(user_id=user.pk, workspace_id=workspace_id).exists()
