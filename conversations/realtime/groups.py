"""The channel-layer groups a socket joins: one per visitor, one per workspace's inbox."""

from __future__ import annotations


def owner_group(agent_public_id: str, owner_key: str) -> str:
    """Every tab of one visitor (every device of a verified customer) listens here."""
    return f"widget.{agent_public_id}.{owner_key}"


def inbox_group(workspace_id: int) -> str:
    """Every inbox of a workspace's staff listens here; notes travel only this way."""
    return f"inbox.{workspace_id}"
