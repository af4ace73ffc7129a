"""Who may change what in a workspace, decided here and nowhere else.

Owners and admins manage a workspace (its settings, people, keys and customers); its
support agents read, chat, and change only what a caller lets members change. The rule
for one role is `role_permits`; `may_manage` finds the caller's role (or API key) in one
workspace and asks it. The admin judges every add, change, delete and action with the same
rule, by the role in the object's own workspace (`workspaces.scoped_admin.MembershipPermissions`).
"""

from __future__ import annotations

from typing import Any

from workspaces.models import Membership

# Strings, not the enum members, so a role read back from the database compares equal.
MANAGER_ROLES: tuple[str, ...] = (Membership.Role.OWNER.value, Membership.Role.ADMIN.value)

__all__ = [
    "MANAGER_ROLES",
    "is_member",
    "may_manage",
    "role_permits",
    "workspace_role",
    "workspace_roles",
]


def role_permits(role: str | None, *, members_may: bool = False) -> bool:
    """The rule, for one role in one workspace: managers may change; members only where
    `members_may` (the support desk's own work); no role (not a member) never."""
    return role in MANAGER_ROLES or (members_may and role is not None)


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


def workspace_roles(user: Any) -> dict[int, str]:
    """`{workspace id: role}` for every workspace a signed-in person is a member of (an
    API key, an anonymous user: none)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    if getattr(user, "api_workspace_id", None) is not None:
        return {}
    memberships = Membership.objects.filter(user_id=user.pk)
    return {
        workspace_id: str(role)
        for workspace_id, role in memberships.values_list("workspace_id", "role")
    }


def may_manage(user: Any, workspace_id: int, *, keys_may: bool = True) -> bool:
    """Owner or admin of this very workspace (a role elsewhere does not count); a superuser
    always. A workspace API key manages its own workspace if it may write, unless
    `keys_may` is False: what only a person may do (erasing a customer)."""
    if getattr(user, "is_superuser", False):
        return True
    key_workspace = getattr(user, "api_workspace_id", None)
    if key_workspace is not None:  # a workspace API key
        return bool(keys_may and key_workspace == workspace_id and user.can_write)
    return role_permits(workspace_role(user, workspace_id))


def is_member(user: Any, workspace_id: int) -> bool:
    """Any role in this very workspace (or its own API key, or a superuser)."""
    if getattr(user, "is_superuser", False):
        return True
    key_workspace = getattr(user, "api_workspace_id", None)
    if key_workspace is not None:
        return bool(key_workspace == workspace_id)
    return Membership.objects.filter(user_id=user.pk, workspace_id=workspace_id).exists()
