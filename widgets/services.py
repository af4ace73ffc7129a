"""Admission of a widget connection: the one place that says who may talk to an agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agents.models import Agent
from widgets.delivery.snapshots import Gate, GateAsks, widget_gate
from widgets.selectors import WidgetAccess

Refusal = Literal["inactive", "ip_blocked", "origin"]


@dataclass(frozen=True)
class Admission:
    agent: Agent | None
    access: WidgetAccess | None
    refusal: str | None  # None, "origin" or "ip_blocked"


def admission_refusal(gate: Gate, *, origin: str, ip: str) -> Refusal | None:
    """Why a page at `origin`, from `ip`, may not talk to the gate's agent (None: it may),
    for the session endpoint and the websocket alike: no active agent, an address blocked
    platform-wide or by the agent's workspace, or a site the agent does not allow."""
    snapshot = gate.snapshot
    if snapshot is None:
        return "inactive"
    if gate.blocks.match(ip, workspace_id=snapshot.workspace_id) is not None:
        return "ip_blocked"
    if not snapshot.allows(origin):
        return "origin"
    return None


def widget_admit(*, agent_public_id: str, origin: str, token_origin: str, ip: str) -> Admission:
    """May a session issued to `token_origin` talk to this agent from `origin` and `ip`?

    The agent's snapshot and the IP blocks come current in one Redis round trip
    (widgets.delivery.snapshots.widget_gate); the one query reads the agent the connection serves.
    """
    gate = widget_gate(agent_public_id=agent_public_id, asks_for=lambda s, b: GateAsks())
    access = gate.snapshot
    refusal = "origin" if origin != token_origin else admission_refusal(gate, origin=origin, ip=ip)
    if access is None or refusal is not None:
        # An inactive agent answers a socket as a foreign site does (4403, noted).
        return Admission(
            agent=None, access=access, refusal="ip_blocked" if refusal == "ip_blocked" else "origin"
        )
    agent = Agent.objects.filter(pk=access.pk, is_active=True).first()
    if agent is None:
        return Admission(agent=None, access=access, refusal="origin")
    return Admission(agent=agent, access=access, refusal=None)
