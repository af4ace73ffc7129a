"""Who belongs to a workspace, and as what: adding people, changing roles, removing them.

Every change is audited (who, in which workspace, whom, the role before and after). The
guards: only the workspace's owners and admins manage its people; only an owner grants
or takes away the owner role; a workspace always keeps an owner; nobody changes their
own role.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.errors import ApiError, InvalidRequest
from security.audit import audit_record
from workspaces.models import Membership, Workspace
from workspaces.permissions import may_manage, workspace_role

OWNER = Membership.Role.OWNER


class MembershipRefused(ApiError):
    status = 403
    code = "forbidden"
    default_message = "You may not change this workspace's members."


def membership_change_problem(
    *,
    by: Any,
    workspace_id: int,
    user_id: int,
    role_from: str | None,
    role_to: str | None,
) -> str | None:
    """Why `by` may not move a person from `role_from` to `role_to` in the workspace
    (`role_from` None: adding them; `role_to` None: removing them), or None if they may.
    For forms, to show the reason before anything is saved; the services ask it again."""
    if not may_manage(by, workspace_id):
        return "Only the workspace's owners and admins manage its members."
    if role_to is not None and role_to not in Membership.Role.values:
        return f"Unknown role {role_to!r}."
    if role_from == role_to:
        return None
    if role_from is not None and role_to is not None and user_id == by.pk:
        return "You can't change your own role: ask another owner or admin."
    by_role = OWNER if getattr(by, "is_superuser", False) else workspace_role(by, workspace_id)
    if OWNER in (role_from, role_to) and by_role != OWNER:
        return "Only an owner may grant or take away the owner role."
    if role_from == OWNER:
        owners = Membership.objects.filter(workspace_id=workspace_id, role=OWNER)
        if not owners.exclude(user_id=user_id).exists():
            return "A workspace keeps at least one owner: make someone else owner first."
    return None


def _refuse_unless_allowed(
    *, by: Any, workspace_id: int, user_id: int, role_from: str | None, role_to: str | None
) -> None:
    # Lock the workspace's owners, so two owners demoting each other at once cannot
    # leave the workspace with none.
    list(Membership.objects.select_for_update().filter(workspace_id=workspace_id, role=OWNER))
    problem = membership_change_problem(
        by=by, workspace_id=workspace_id, user_id=user_id, role_from=role_from, role_to=role_to
    )
    if problem:
        raise MembershipRefused(problem)


def _audit(
    action: str, *, membership: Membership, by: Any, role_from: str | None, role_to: str | None
) -> None:
    username = membership.user.get_username()
    audit_record(
        action=action,
        target=username,
        actor=by,
        workspace_id=membership.workspace_id,
        changes={"user": username, "role": {"from": role_from, "to": role_to}},
    )


@transaction.atomic
def membership_add(*, workspace: Workspace, user: Any, role: str, by: Any) -> Membership:
    """Make `user` a member of `workspace` with `role`."""
    _refuse_unless_allowed(
        by=by, workspace_id=workspace.pk, user_id=user.pk, role_from=None, role_to=role
    )
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise InvalidRequest(f"{user.get_username()} is already a member: change their role.")
    membership = Membership.objects.create(workspace=workspace, user=user, role=role)
    _audit("membership.added", membership=membership, by=by, role_from=None, role_to=role)
    return membership


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str, by: Any) -> Membership:
    """Give the member another role (nothing happens, and nothing is audited, if it is
    the one they have)."""
    current = Membership.objects.select_for_update().get(pk=membership.pk)
    _refuse_unless_allowed(
        by=by,
        workspace_id=current.workspace_id,
        user_id=current.user_id,
        role_from=current.role,
        role_to=role,
    )
    if current.role != role:
        role_from, current.role = current.role, role
        current.save(update_fields=["role"])
        _audit(
            "membership.role_changed", membership=current, by=by, role_from=role_from, role_to=role
        )
    membership.role = current.role
    return current


@transaction.atomic
def membership_remove(*, membership: Membership, by: Any) -> None:
    """Take the person out of the workspace (an owner or admin may also leave it, unless
    they are its last owner)."""
    current = Membership.objects.select_for_update().get(pk=membership.pk)
    _refuse_unless_allowed(
        by=by,
        workspace_id=current.workspace_id,
        user_id=current.user_id,
        role_from=current.role,
        role_to=None,
    )
    _audit("membership.removed", membership=current, by=by, role_from=current.role, role_to=None)
    current.delete()
