"""Adding people, changing roles, removing them: the guards, and the audit of each change."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from security.models import AuditEntry
from workspaces.memberships import (
    MembershipRefused,
    membership_add,
    membership_remove,
    membership_role_change,
)
from workspaces.models import Membership, Workspace
from workspaces.permissions import MANAGER_ROLES, role_permits

pytestmark = pytest.mark.django_db


def person(username: str, workspace: Workspace | None = None, role: str = "agent") -> Any:
    user = get_user_model().objects.create_user(username=username, password="pw", is_staff=True)
    if workspace is not None:
        Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


def audit_trail() -> list[tuple[str, str, dict[str, Any]]]:
    entries = AuditEntry.objects.filter(action__startswith="membership.").order_by("pk")
    return [(e.action, e.target, e.changes["role"]) for e in entries]


def test_the_manager_roles_are_membership_roles() -> None:
    assert set(MANAGER_ROLES) <= set(Membership.Role.values)
    assert role_permits("owner") and role_permits("admin") and not role_permits("agent")
    assert role_permits("agent", members_may=True) and not role_permits(None, members_may=True)


def test_an_owner_adds_changes_and_removes_a_member_and_each_step_is_audited(
    workspace: Workspace, owner: Any
) -> None:
    newcomer = person("newcomer")
    membership = membership_add(workspace=workspace, user=newcomer, role="agent", by=owner)
    membership_role_change(membership=membership, role="owner", by=owner)
    membership_role_change(membership=membership, role="owner", by=owner)  # no change
    membership_remove(membership=membership, by=owner)
    assert not Membership.objects.filter(user=newcomer).exists()
    assert audit_trail() == [
        ("membership.added", "newcomer", {"from": None, "to": "agent"}),
        ("membership.role_changed", "newcomer", {"from": "agent", "to": "owner"}),
        ("membership.removed", "newcomer", {"from": "owner", "to": None}),
    ]
    assert set(AuditEntry.objects.values_list("actor", "workspace")) == {(owner.pk, workspace.pk)}


def test_a_support_agent_manages_nobody(workspace: Workspace, teammate: Any) -> None:
    with pytest.raises(MembershipRefused):
        membership_add(workspace=workspace, user=person("friend"), role="agent", by=teammate)


def test_a_manager_elsewhere_manages_nobody_here(
    workspace: Workspace, other_workspace: Workspace, outsider: Any
) -> None:
    with pytest.raises(MembershipRefused):
        membership_add(workspace=workspace, user=person("friend"), role="owner", by=outsider)
    assert not Membership.objects.filter(workspace=workspace, user__username="friend").exists()


def test_only_an_owner_grants_or_takes_away_the_owner_role(
    workspace: Workspace, owner: Any
) -> None:
    admin = person("admin", workspace, "admin")
    second_owner = Membership.objects.get(user=person("second", workspace, "owner"))
    with pytest.raises(MembershipRefused, match="Only an owner"):
        membership_add(workspace=workspace, user=person("friend"), role="owner", by=admin)
    with pytest.raises(MembershipRefused, match="Only an owner"):
        membership_role_change(membership=second_owner, role="agent", by=admin)
    with pytest.raises(MembershipRefused, match="Only an owner"):
        membership_remove(membership=second_owner, by=admin)
    # An admin still manages support agents.
    membership_add(workspace=workspace, user=person("helper"), role="agent", by=admin)
    assert audit_trail()[-1] == ("membership.added", "helper", {"from": None, "to": "agent"})


def test_the_last_owner_stays(workspace: Workspace, owner: Any, django_user_model: Any) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    only_owner = Membership.objects.get(user=owner)
    with pytest.raises(MembershipRefused, match="at least one owner"):
        membership_role_change(membership=only_owner, role="admin", by=root)
    with pytest.raises(MembershipRefused, match="at least one owner"):
        membership_remove(membership=only_owner, by=owner)
    person("heir", workspace, "owner")
    membership_remove(membership=only_owner, by=owner)  # now they may leave
    assert not Membership.objects.filter(pk=only_owner.pk).exists()


def test_nobody_changes_their_own_role(workspace: Workspace, owner: Any) -> None:
    person("co-owner", workspace, "owner")
    with pytest.raises(MembershipRefused, match="your own role"):
        membership_role_change(
            membership=Membership.objects.get(user=owner), role="admin", by=owner
        )
    assert Membership.objects.get(user=owner).role == "owner"
    assert audit_trail() == []
