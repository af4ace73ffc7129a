"""Admission of a widget connection: the one place that says who may talk to an agent."""

from __future__ import annotations

from dataclasses import dataclass

from agents.models import Agent
from security.blocks import ip_block_for
from widgets.selectors import WidgetAccess, agent_for_widget, widget_access_for


@dataclass(frozen=True)
class Admission:
    agent: Agent | None
    access: WidgetAccess | None
    refusal: str | None  # None, "origin" or "ip_blocked"


def widget_admit(*, agent_public_id: str, origin: str, token_origin: str, ip: str) -> Admission:
    """May a session issued to `token_origin` talk to this agent from `origin` and `ip`?"""
    access = widget_access_for(agent_public_id)
    if access is None or origin != token_origin:
        return Admission(agent=None, access=access, refusal="origin")
    if ip_block_for(ip, workspace_id=access.workspace_id) is not None:
        return Admission(agent=None, access=access, refusal="ip_blocked")
    agent = agent_for_widget(agent_public_id, origin)
    if agent is None:
        return Admission(agent=None, access=access, refusal="origin")
    return Admission(agent=agent, access=access, refusal=None)
