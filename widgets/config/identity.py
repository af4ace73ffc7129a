"""The agent's identity settings as the Identity page shows and changes them: whether only
verified customers may chat, and the keys that verify them (customers.keys issues them)."""

from __future__ import annotations

from typing import Any, TypedDict

from django.utils import timezone

from agents.models import Agent
from agents.services import agent_save
from customers.models import IdentityKey

KEYS_SHOWN = 20


class KeyRow(TypedDict):
    key: IdentityKey
    state: str  # "live", "retiring" or "retired"


def identity_required_set(*, agent: Agent, required: bool, actor: Any) -> bool:
    """Let only verified customers chat (or everyone again); audited. Returns whether it changed."""
    if required == agent.identity_required:
        return False
    before = {"identity_required": agent.identity_required}
    agent.identity_required = required
    agent_save(agent=agent, by=actor, before=before, created=False)  # saved and audited once
    return True


def identity_key_rows(agent: Agent) -> list[KeyRow]:
    """The agent's newest keys, each with its state now."""
    now = timezone.now()
    rows: list[KeyRow] = []
    for key in IdentityKey.objects.filter(agent=agent).order_by("-created_at")[:KEYS_SHOWN]:
        if key.retires_at is None:
            state = "live"
        elif key.retires_at > now:
            state = "retiring"
        else:
            state = "retired"
        rows.append({"key": key, "state": state})
    return rows


def identity_key_of(agent: Agent, key_id: str) -> IdentityKey | None:
    return IdentityKey.objects.filter(agent=agent, key_id=key_id).first()


def identity_has_secret(agent: Agent) -> bool:
    """Whether the agent has a shared secret (HS256) at all, live or not."""
    return IdentityKey.objects.filter(agent=agent, algorithm="HS256").exists()
