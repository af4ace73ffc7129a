"""The public config live widgets draw: the published release, or the draft for an agent
that never published. Nothing private, nothing per visitor."""

from __future__ import annotations

import copy
from typing import Any, TypedDict, cast

from agents.models import Agent
from widgets.models import WidgetConfig


class PageConfig(TypedDict):
    """The published config minus what only an open chat uses (the agent's CSS): what a
    page view without intent is given (widgets.delivery.page_config)."""

    agentId: str
    name: str
    greeting: str
    avatarUrl: str
    theme: dict[str, Any]
    position: str
    features: list[str]
    triggers: dict[str, Any]
    starterPrompts: list[str]


class PublicConfig(PageConfig):
    customCss: str


def public_config_of(agent: Agent, config: WidgetConfig | None) -> PublicConfig:
    """The published config of `agent`, from its widget config (with `published_release`)
    already in hand: no query."""
    draft = _draft_of(agent, config)
    release = config.published_release if config else None
    if release is None:
        return draft
    # Fields added to PublicConfig after this release was made come from the draft.
    live = cast(dict[str, Any], dict(draft))
    live.update({k: copy.deepcopy(v) for k, v in release.snapshot.items() if k in live})
    live["agentId"] = agent.public_id
    return cast(PublicConfig, live)


def widget_public_config(agent: Agent) -> PublicConfig:
    """What live widgets draw: the published release (widgets.publishing.releases), or the draft for
    an agent that never published. Nothing private, nothing per visitor."""
    config = WidgetConfig.objects.filter(agent=agent).select_related("published_release").first()
    return public_config_of(agent, config)


def widget_draft_public_config(agent: Agent, config: WidgetConfig | None = None) -> PublicConfig:
    """The public config as the draft would show it: what "Publish" snapshots."""
    if config is None:
        config = WidgetConfig.objects.filter(agent=agent).first()
    return _draft_of(agent, config)


def _draft_of(agent: Agent, config: WidgetConfig | None) -> PublicConfig:
    return {
        "agentId": agent.public_id,
        "name": agent.name,
        "greeting": agent.greeting,
        "avatarUrl": agent.avatar_url,
        "theme": dict(config.theme) if config else {},
        "position": config.position if config else WidgetConfig.Position.BOTTOM_RIGHT,
        "customCss": config.custom_css if config else "",
        "features": list(config.features) if config else ["chat"],
        "triggers": dict(config.triggers or {}) if config else {},
        "starterPrompts": list(config.starter_prompts or []) if config else [],
    }
