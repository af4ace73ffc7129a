"""Keep every process's compiled widget snapshot (widgets.delivery.snapshots) true to the database.

Receivers (not a service) because the admin, the API, the beat task and shell edits must
all invalidate, and a stale snapshot here would be a security hole: its allowed domains,
whether the agent is active, its identity mode and rate limits, the published config (a
publish or a rollback moves `WidgetConfig.published_release`), the core pin, a custom
domain's verification (the running experiments: experiments.signals). Each receiver
only replaces the agent's stamp; the next request in every process recompiles.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from agents.models import Agent
from widgets.delivery.snapshots import widget_snapshot_invalidate
from widgets.models import CoreBuild, CoreChannel, WidgetConfig
from widgets.publishing.core_builds import core_targets_forget


@receiver([post_save, post_delete], sender=WidgetConfig)
def widget_config_changed(
    sender: type[WidgetConfig], instance: WidgetConfig, **kwargs: Any
) -> None:
    widget_snapshot_invalidate(instance.agent.public_id)


@receiver([post_save, post_delete], sender=Agent)
def agent_changed(sender: type[Agent], instance: Agent, **kwargs: Any) -> None:
    widget_snapshot_invalidate(instance.public_id)


# Which core build each agent loads (widgets.publishing.core_builds): a new build, a moved channel.
@receiver([post_save, post_delete], sender=CoreBuild)
@receiver([post_save, post_delete], sender=CoreChannel)
def core_builds_changed(sender: type[Any], instance: Any, **kwargs: Any) -> None:
    core_targets_forget()
