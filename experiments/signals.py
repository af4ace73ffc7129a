"""Keep the compiled widget snapshots (widgets.delivery.snapshots) true to the experiments.

Which variants a visitor sees is compiled per agent: any change to an experiment or its
variants (admin, API, beat task, shell) must show at once, so each receiver replaces the
agent's stamp and the next request in every process recompiles.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from agents.models import Agent
from experiments.models import Experiment, ExperimentVariant
from widgets.delivery.snapshots import widget_snapshot_invalidate


@receiver([post_save, post_delete], sender=Experiment)
def experiment_changed(sender: type[Experiment], instance: Experiment, **kwargs: Any) -> None:
    widget_snapshot_invalidate(_agent_public_id(instance.agent_id))


@receiver([post_save, post_delete], sender=ExperimentVariant)
def experiment_variant_changed(
    sender: type[ExperimentVariant], instance: ExperimentVariant, **kwargs: Any
) -> None:
    agent_id = (
        Experiment.objects.filter(pk=instance.experiment_id)
        .values_list("agent_id", flat=True)
        .first()
    )
    if agent_id is not None:
        widget_snapshot_invalidate(_agent_public_id(agent_id))


def _agent_public_id(agent_pk: int) -> str:
    return str(Agent.objects.filter(pk=agent_pk).values_list("public_id", flat=True).first() or "")
