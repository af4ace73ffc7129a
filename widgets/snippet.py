"""The embed snippet customer sites paste (both forms of CONTRACT.md)."""

from __future__ import annotations

from django.conf import settings


def embed_snippet(agent_public_id: str, *, base_url: str | None = None) -> str:
    base = (base_url or settings.PUBLIC_BASE_URL).rstrip("/")
    return (
        f'<script>window.CustomerAgent = {{ agentId: "{agent_public_id}" }};</script>\n'
        f'<script async src="{base}/widget.js"></script>'
    )


def embed_snippet_zero_config(agent_public_id: str, *, base_url: str | None = None) -> str:
    base = (base_url or settings.PUBLIC_BASE_URL).rstrip("/")
    return f'<script async src="{base}/widget.js" data-agent-id="{agent_public_id}"></script>'
