"""Reads behind the public widget: which agent, which origins, which config.

The answers come from the agent's compiled snapshot (widgets.delivery.snapshots), current in every
process; the public config itself is built in widgets.delivery.public_config.
"""

from __future__ import annotations

from agents.models import Agent
from widgets.delivery.public_config import (
    PublicConfig,
    public_config_of,
    widget_draft_public_config,
    widget_public_config,
)
from widgets.delivery.snapshots import (
    WidgetSnapshot,
    widget_snapshot,
    widget_snapshot_invalidate,
)
from widgets.models import WidgetConfig

# Who may embed an active agent's widget and the limits that apply to it: the snapshot
# carries every field the former access record had (workspace_id, allowed_domains,
# rate_limits, identity_required, core_version).
WidgetAccess = WidgetSnapshot

__all__ = [
    "PublicConfig",
    "WidgetAccess",
    "allowed_domains_for",
    "allowed_domains_forget",
    "public_config_of",
    "widget_access_for",
    "widget_allowed_domains",
    "widget_config_of",
    "widget_draft_public_config",
    "widget_public_config",
    "widgets_pinned_to",
]


def widget_access_for(agent_public_id: str) -> WidgetAccess | None:
    """An active agent's access rules, or None when there is no such agent."""
    return widget_snapshot(agent_public_id)


def allowed_domains_for(agent_public_id: str) -> list[str] | None:
    snapshot = widget_snapshot(agent_public_id)
    return None if snapshot is None else snapshot.allowed_domains


def allowed_domains_forget(agent_public_id: str) -> None:
    """The agent's widget changed: every process recompiles its snapshot."""
    widget_snapshot_invalidate(agent_public_id)


def widget_config_of(agent: Agent) -> WidgetConfig | None:
    """The agent's widget config row (with its live release), or None before the first save."""
    return WidgetConfig.objects.filter(agent=agent).select_related("published_release").first()


def widget_allowed_domains(agent: Agent) -> list[str]:
    """The agent's allowed-domains entries as staff wrote them (they apply at once)."""
    config = WidgetConfig.objects.filter(agent=agent).only("allowed_domains").first()
    return list(config.allowed_domains) if config else []


def widgets_pinned_to(version: str) -> int:
    """How many agents pin this core build version."""
    return WidgetConfig.objects.filter(core_version=version).count()
