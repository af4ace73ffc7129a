"""Keep cached allowed-domain lookups true to the database.

A receiver (not a service) because the admin, the API and shell edits must all
invalidate, and a stale cache here would be a security hole.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from agents.models import Agent
from widgets.models import WidgetConfig
from widgets.selectors import allowed_domains_forget


@receiver([post_save, post_delete], sender=WidgetConfig)
def widget_config_changed(
    sender: type[WidgetConfig], instance: WidgetConfig, **kwargs: Any
) -> None:
    allowed_domains_forget(instance.agent.public_id)


@receiver([post_save, post_delete], sender=Agent)
def agent_changed(sender: type[Agent], instance: Agent, **kwargs: Any) -> None:
    allowed_domains_forget(instance.public_id)
