"""The embed snippet customer sites paste (both forms of CONTRACT.md)."""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings

from agents.models import Agent
from widgets.delivery.custom_domains import verified_custom_domain
from widgets.models import WidgetConfig
from widgets.publishing.core_builds import core_build_pinned


def embed_snippet(agent_public_id: str, *, base_url: str | None = None) -> str:
    base = (base_url or settings.PUBLIC_BASE_URL).rstrip("/")
    return (
        f'<script>window.CustomerAgent = {{ agentId: "{agent_public_id}" }};</script>\n'
        f'<script async src="{base}/widget.js"></script>'
    )


def embed_snippet_zero_config(agent_public_id: str, *, base_url: str | None = None) -> str:
    base = (base_url or settings.PUBLIC_BASE_URL).rstrip("/")
    return f'<script async src="{base}/widget.js" data-agent-id="{agent_public_id}"></script>'


def asset_url(static_name: str, *, base_url: str | None = None) -> str:
    """An immutable asset's absolute URL on the platform's public host. The versioned
    loader imports its core from `<its own origin>/static/...`, so both live there."""
    static_url = settings.STATIC_URL or "/static/"
    if static_url.startswith(("http://", "https://")):
        return f"{static_url.rstrip('/')}/{static_name}"
    base = (base_url or settings.PUBLIC_BASE_URL).rstrip("/")
    return f"{base}/{static_url.strip('/')}/{static_name}"


def embed_snippet_pinned(
    agent_public_id: str,
    *,
    loader_url: str,
    loader_integrity: str,
    core_url: str,
    core_integrity: str,
) -> str:
    """The snippet fixed to one widget build, every file checked by Subresource Integrity:
    the versioned loader, and its core through a modulepreload the loader's import reuses.
    It never changes by itself: moving to another build means pasting a new snippet."""
    return (
        f'<script>window.CustomerAgent = {{ agentId: "{agent_public_id}" }};</script>\n'
        f'<link rel="modulepreload" href="{core_url}" integrity="{core_integrity}" '
        'crossorigin="anonymous">\n'
        f'<script async src="{loader_url}" integrity="{loader_integrity}" '
        'crossorigin="anonymous"></script>'
    )


class PinnedSnippet(TypedDict):
    version: str
    loaderUrl: str
    loaderIntegrity: str
    coreUrl: str
    coreIntegrity: str
    snippet: str


class Snippets(TypedDict):
    agentId: str
    configured: str
    zeroConfig: str
    coreVersion: str  # empty: the stable channel
    pinned: PinnedSnippet | None  # only for an agent pinned to a build that has a loader


def snippet_base_url(custom_domain: str = "") -> str:
    """Where snippets load the widget from: the agent's own custom domain (a CNAME to the
    platform, always HTTPS) when it has one, else the platform's PUBLIC_BASE_URL."""
    domain = custom_domain.strip().rstrip("/")
    return f"https://{domain}" if domain else settings.PUBLIC_BASE_URL.rstrip("/")


def widget_snippets(
    agent_public_id: str, core_version: str = "", *, base_url: str | None = None
) -> Snippets:
    """Both snippet forms, and for an agent pinned to a build, the form with integrity."""
    build = core_build_pinned(core_version)
    pinned: PinnedSnippet | None = None
    if build is not None and build.loader_path:
        loader_url = asset_url(build.loader_path, base_url=base_url)
        core_url = asset_url(build.path, base_url=base_url)
        pinned = {
            "version": build.version,
            "loaderUrl": loader_url,
            "loaderIntegrity": build.loader_integrity,
            "coreUrl": core_url,
            "coreIntegrity": build.integrity,
            "snippet": embed_snippet_pinned(
                agent_public_id,
                loader_url=loader_url,
                loader_integrity=build.loader_integrity,
                core_url=core_url,
                core_integrity=build.integrity,
            ),
        }
    return {
        "agentId": agent_public_id,
        "configured": embed_snippet(agent_public_id, base_url=base_url),
        "zeroConfig": embed_snippet_zero_config(agent_public_id, base_url=base_url),
        "coreVersion": core_version,
        "pinned": pinned,
    }


def agent_snippet_base_url(agent: Agent) -> str:
    """Where this agent's snippets load the widget from: its custom domain once verified
    (a pending one may belong to someone else), else the platform."""
    return snippet_base_url(verified_custom_domain(agent))


def widget_snippets_for(agent: Agent) -> Snippets:
    """The agent's snippets as its settings make them: pinned build, custom domain."""
    pin = WidgetConfig.objects.filter(agent=agent).values_list("core_version", flat=True)
    return widget_snippets(
        agent.public_id, pin.first() or "", base_url=agent_snippet_base_url(agent)
    )
