"""Admission of a widget connection: the one place that says who may talk to an agent."""

from __future__ import annotations

from dataclasses import dataclass

from agents.models import Agent
from widgets.delivery.snapshots import GateAsks, widget_gate
from widgets.selectors import WidgetAccess


@dataclass(frozen=True)
class Admission:
    agent: Agent | None
    access: WidgetAccess | None
    refusal: str | None  # None, "origin" or "ip_blocked"


def widget_admit(*, agent_public_id: str, origin: str, token_origin: str, ip: str) -> Admission:
    """May a session issued to `token_origin` talk to this agent from `origin` and `ip`?

    The agent's snapshot and the IP blocks come current in one Redis round trip
    (widgets.delivery.snapshots.widget_gate); the one query reads the agent the connection serves.
    """
    gate = widget_gate(agent_public_id=agent_public_id, asks_for=lambda s, b: GateAsks())
    access = gate.snapshot
    if access is None or origin != token_origin:
        return Admission(agent=None, access=access, refusal="origin")
    if gate.blocks.match(ip, workspace_id=access.workspace_id) is not None:
        return Admission(agent=None, access=access, refusal="ip_blocked")
    if not access.allows(origin):
        return Admission(agent=None, access=access, refusal="origin")
    agent = Agent.objects.filter(pk=access.pk, is_active=True).first()
    if agent is None:
        return Admission(agent=None, access=access, refusal="origin")
    return Admission(agent=agent, access=access, refusal=None)
