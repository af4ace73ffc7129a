"""Reads behind the public widget: which agent, which origins, which config."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, TypedDict, cast

from django.core.cache import cache

from agents.models import Agent
from security.domains import origin_allowed
from widgets.models import WidgetConfig

ALLOWED_CACHE_SECONDS = 300
ALL_PATTERNS_KEY = "widget:allowed:all"


def _agent_key(agent_public_id: str) -> str:
    return f"widget:access:{agent_public_id}"


@dataclass(frozen=True)
class WidgetAccess:
    """Who may embed an active agent's widget, and the limits that apply to it."""

    workspace_id: int
    allowed_domains: list[str]
    rate_limits: dict[str, int]
    # A default, so an entry cached before this field existed still reads.
    identity_required: bool = False
    # The widget code build this agent is pinned to; empty follows the stable channel.
    core_version: str = ""


def widget_access_for(agent_public_id: str) -> WidgetAccess | None:
    """An active agent's access rules (cached), or None when there is no such agent."""
    key = _agent_key(agent_public_id)
    cached: WidgetAccess | str | None = cache.get(key)
    if cached == "missing":
        return None
    if isinstance(cached, WidgetAccess):
        return cached
    agent = (
        Agent.objects.filter(public_id=agent_public_id, is_active=True)
        .select_related("widget_config")
        .first()
    )
    if agent is None:
        cache.set(key, "missing", ALLOWED_CACHE_SECONDS)
        return None
    config = getattr(agent, "widget_config", None)
    access = WidgetAccess(
        workspace_id=agent.workspace_id,
        allowed_domains=list(config.allowed_domains) if config else [],
        rate_limits=dict(config.rate_limits or {}) if config else {},
        identity_required=agent.identity_required,
        core_version=config.core_version if config else "",
    )
    cache.set(key, access, ALLOWED_CACHE_SECONDS)
    return access


def allowed_domains_for(agent_public_id: str) -> list[str] | None:
    access = widget_access_for(agent_public_id)
    return None if access is None else access.allowed_domains


def any_agent_allows(origin: str) -> bool:
    """Whether some active agent allows `origin` (the answer to a CORS preflight)."""
    patterns: list[str] | None = cache.get(ALL_PATTERNS_KEY)
    if patterns is None:
        patterns = sorted(
            {
                entry
                for domains in WidgetConfig.objects.filter(agent__is_active=True).values_list(
                    "allowed_domains", flat=True
                )
                for entry in domains
            }
        )
        cache.set(ALL_PATTERNS_KEY, patterns, ALLOWED_CACHE_SECONDS)
    return origin_allowed(origin, patterns)


def allowed_domains_forget(agent_public_id: str) -> None:
    cache.delete_many([_agent_key(agent_public_id), ALL_PATTERNS_KEY])


def agent_for_widget(agent_public_id: str, origin: str) -> Agent | None:
    """The active agent when `origin` may embed it, else None."""
    domains = allowed_domains_for(agent_public_id)
    if domains is None or not origin_allowed(origin, domains):
        return None
    return Agent.objects.filter(public_id=agent_public_id, is_active=True).first()


class PublicConfig(TypedDict):
    agentId: str
    name: str
    greeting: str
    avatarUrl: str
    theme: dict[str, Any]
    position: str
    customCss: str
    features: list[str]
    triggers: dict[str, Any]
    starterPrompts: list[str]


def widget_public_config(agent: Agent) -> PublicConfig:
    """What live widgets draw: the published release (widgets.releases), or the draft for
    an agent that never published. Nothing private, nothing per visitor."""
    config = WidgetConfig.objects.filter(agent=agent).select_related("published_release").first()
    draft = widget_draft_public_config(agent, config)
    release = config.published_release if config else None
    if release is None:
        return draft
    # Fields added to PublicConfig after this release was made come from the draft.
    live = cast(dict[str, Any], dict(draft))
    live.update({k: copy.deepcopy(v) for k, v in release.snapshot.items() if k in live})
    live["agentId"] = agent.public_id
    return cast(PublicConfig, live)


def widget_draft_public_config(agent: Agent, config: WidgetConfig | None = None) -> PublicConfig:
    """The public config as the draft would show it: what "Publish" snapshots."""
    if config is None:
        config = WidgetConfig.objects.filter(agent=agent).first()
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
