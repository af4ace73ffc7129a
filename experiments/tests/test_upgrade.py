"""A database made before the A/B domain moved to `experiments` keeps every row: the
experiments, their variants and their computed results are found through the new models,
with the same ids and fields, and the pinned task names still resolve."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from config.celery import app as celery_app
from experiments.models import Experiment, ExperimentResult, ExperimentVariant
from workspaces.tests.test_upgrade import BEFORE_THE_MOVE, migrate, migrate_to_latest


def rows_before_the_move(old: Apps) -> dict[str, Any]:
    workspace = old.get_model("agents", "Workspace").objects.create(name="Acme", slug="acme")  # type: ignore[misc]
    agent = old.get_model("agents", "Agent").objects.create(
        workspace=workspace, name="Helper", public_id="agt_upgradeupgrade01"
    )
    experiment = old.get_model("analytics", "Experiment").objects.create(  # type: ignore[misc]
        workspace=workspace,
        agent=agent,
        key="launcher-colour",
        name="Launcher colour",
        status="running",
        confidence=0.9,
        started_at=timezone.now(),
    )
    variants = [
        old.get_model("analytics", "ExperimentVariant").objects.create(  # type: ignore[misc]
            experiment=experiment, key=key, weight=50, overrides=overrides
        )
        for key, overrides in (("control", {}), ("teal", {"primaryColor": "#0f766e"}))
    ]
    result = old.get_model("analytics", "ExperimentResult").objects.create(  # type: ignore[misc]
        experiment=experiment,
        variants={"control": {"n": 10}, "teal": {"n": 12}},
        p_value=0.2,
        verdict="not yet",
    )
    return {
        "workspace": workspace,
        "experiment": experiment,
        "variants": variants,
        "result": result,
    }


@pytest.mark.django_db(transaction=True)
def test_every_experiment_row_is_found_through_the_experiments_models() -> None:
    try:
        old = migrate(BEFORE_THE_MOVE)
        applied = MigrationRecorder(connection).applied_migrations()
        assert not any(app == "experiments" for app, _ in applied)
        before = rows_before_the_move(old)
        migrate_to_latest()

        experiment = Experiment.objects.get(pk=before["experiment"].pk)
        old_experiment = before["experiment"]
        assert (experiment.key, experiment.name, experiment.status, experiment.confidence) == (
            "launcher-colour",
            "Launcher colour",
            "running",
            0.9,
        )
        assert experiment.workspace_id == before["workspace"].pk
        assert experiment.agent.public_id == "agt_upgradeupgrade01"
        assert experiment.started_at == old_experiment.started_at
        variants = {v.key: v for v in ExperimentVariant.objects.filter(experiment=experiment)}
        assert {key: v.pk for key, v in variants.items()} == {
            v.key: v.pk for v in before["variants"]
        }
        assert variants["teal"].overrides == {"primaryColor": "#0f766e"}
        result = ExperimentResult.objects.get(pk=before["result"].pk)
        assert (result.experiment_id, result.p_value, result.verdict) == (
            experiment.pk,
            0.2,
            "not yet",
        )
        assert result.variants == {"control": {"n": 10}, "teal": {"n": 12}}
    finally:
        migrate_to_latest()


def test_queued_and_scheduled_experiment_tasks_still_resolve() -> None:
    """Tasks queued (or scheduled in beat) before the move carry their old names."""
    celery_app.loader.import_default_modules()
    for name in (
        "analytics.tasks.compute_experiment_results",
        "widgets.tasks.promote_experiment_winners",
    ):
        assert name in celery_app.tasks, name
