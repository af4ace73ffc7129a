"""Keep cached allowed-domain lookups true to the database.

A receiver (not a service) because the admin, the API and shell edits must all
invalidate, and a stale cache here would be a security hole.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from agents.models import Agent
from analytics.models import Experiment, ExperimentVariant
from widgets.core_builds import core_targets_forget
from widgets.experiments import live_experiments_forget
from widgets.models import CoreBuild, CoreChannel, WidgetConfig
from widgets.selectors import allowed_domains_forget


@receiver([post_save, post_delete], sender=WidgetConfig)
def widget_config_changed(
    sender: type[WidgetConfig], instance: WidgetConfig, **kwargs: Any
) -> None:
    allowed_domains_forget(instance.agent.public_id)


@receiver([post_save, post_delete], sender=Agent)
def agent_changed(sender: type[Agent], instance: Agent, **kwargs: Any) -> None:
    allowed_domains_forget(instance.public_id)


# Which core build each agent loads (widgets.core_builds): a new build, a moved channel.
@receiver([post_save, post_delete], sender=CoreBuild)
@receiver([post_save, post_delete], sender=CoreChannel)
def core_builds_changed(sender: type[Any], instance: Any, **kwargs: Any) -> None:
    core_targets_forget()


# Which variants a visitor sees is cached per agent: any change to an experiment or its
# variants (admin, API, beat task, shell) must show at once.
@receiver([post_save, post_delete], sender=Experiment)
def experiment_changed(sender: type[Experiment], instance: Experiment, **kwargs: Any) -> None:
    live_experiments_forget(_agent_public_id(instance.agent_id))


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
        live_experiments_forget(_agent_public_id(agent_id))


def _agent_public_id(agent_pk: int) -> str:
    return str(Agent.objects.filter(pk=agent_pk).values_list("public_id", flat=True).first() or "")
