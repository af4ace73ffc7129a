"""A database made before tenancy moved to `workspaces` keeps every row: the workspace, its
people and its API keys are found through the new models, with the same ids and fields."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps.registry import Apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from workspaces.models import ApiKey, Membership, Workspace

# The last migration of each app at the main before the move (agents held the models; the
# workspaces and experiments apps did not exist).
BEFORE_THE_MOVE = [
    ("agents", "0005_api_keys"),
    ("analytics", "0002_metrics_alerts_experiments"),
    ("conversations", "0005_message_customer_recent"),
    ("customers", "0002_identity"),
    ("security", "0003_audit_actor_api_keys"),
    ("widgets", "0008_custom_domain_unique"),
    ("experiments", None),
    ("workspaces", None),
]


def migrate(targets: list[tuple[str, str | None]]) -> Apps:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps  # type: ignore[misc]


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def rows_before_the_move(old: Apps) -> dict[str, Any]:
    User = old.get_model("auth", "User")
    owner = User.objects.create(username="old-owner")
    workspace = old.get_model("agents", "Workspace").objects.create(name="Acme", slug="acme")  # type: ignore[misc]
    membership = old.get_model("agents", "Membership").objects.create(  # type: ignore[misc]
        workspace=workspace, user=owner, role="owner"
    )
    key = old.get_model("agents", "ApiKey").objects.create(  # type: ignore[misc]
        workspace=workspace,
        name="CRM sync",
        prefix="ab12cd34",
        digest="d" * 64,
        can_write=True,
        created_by=owner,
        last_used_at=timezone.now(),
    )
    return {"owner": owner, "workspace": workspace, "membership": membership, "key": key}


@pytest.mark.django_db(transaction=True)
def test_every_tenancy_row_is_found_through_the_workspaces_models() -> None:
    try:
        old = migrate(BEFORE_THE_MOVE)
        applied = MigrationRecorder(connection).applied_migrations()
        assert not any(app == "workspaces" for app, _ in applied)
        before = rows_before_the_move(old)
        migrate_to_latest()

        workspace = Workspace.objects.get(pk=before["workspace"].pk)
        assert (workspace.name, workspace.slug) == ("Acme", "acme")
        assert workspace.created_at == before["workspace"].created_at

        membership = Membership.objects.get(pk=before["membership"].pk)
        assert membership.workspace == workspace
        assert membership.user == get_user_model().objects.get(username="old-owner")
        assert membership.role == Membership.Role.OWNER
        assert list(workspace.memberships.all()) == [membership]

        key = ApiKey.objects.get(pk=before["key"].pk)
        old_key = before["key"]
        assert (key.workspace_id, key.name, key.prefix, key.digest, key.can_write) == (
            workspace.pk,
            "CRM sync",
            "ab12cd34",
            "d" * 64,
            True,
        )
        assert key.created_by_id == before["owner"].pk
        assert (key.created_at, key.last_used_at, key.revoked_at) == (
            old_key.created_at,
            old_key.last_used_at,
            None,
        )
        assert list(workspace.api_keys.all()) == [key]
    finally:
        migrate_to_latest()
