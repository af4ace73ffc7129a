"""Migrations 0007-0008: custom domains nobody proved become pending, and a name several widgets
shared (in any case) stays with the oldest one; the others lose it, audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("widgets", "0006_deploy_customizer")]
AFTER = [("widgets", "0008_custom_domain_unique")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_custom_domains_become_pending_and_unique(capsys: Any) -> None:
    old = migrate(BEFORE)
    Workspace = old.get_model("agents", "Workspace")
    Agent = old.get_model("agents", "Agent")
    WidgetConfig = old.get_model("widgets", "WidgetConfig")
    rows = []
    for n, domain in enumerate(["chat.acme.test", "Chat.ACME.test.", "help.globex.test", ""]):
        workspace = Workspace.objects.create(name=f"W{n}", slug=f"w{n}")
        agent = Agent.objects.create(workspace=workspace, name=f"A{n}", public_id=f"agt_m{n}")
        rows.append(WidgetConfig.objects.create(agent=agent, custom_domain=domain))
    try:
        new = migrate(AFTER)
        configs = new.get_model("widgets", "WidgetConfig").objects.order_by("pk")
        after = {c.agent.public_id: c for c in configs.select_related("agent")}
        assert after["agt_m0"].custom_domain == "chat.acme.test"  # the oldest keeps it
        assert after["agt_m1"].custom_domain == ""
        assert after["agt_m2"].custom_domain == "help.globex.test"
        assert all(c.custom_domain_verified_at is None for c in after.values())  # pending
        assert len({c.custom_domain_token for c in after.values()}) == len(rows)
        entries = new.get_model("security", "AuditEntry").objects.filter(
            action="widget.custom_domain_released"
        )
        assert [(e.target, e.workspace_id) for e in entries] == [
            ("agt_m1", after["agt_m1"].agent.workspace_id)
        ]
        assert "cleared custom domain chat.acme.test of agent agt_m1" in capsys.readouterr().out
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
