"""The tools one conversation may use, gathered from whatever serves them (today the
agent's MCP servers). Above the tool contract (agents.contracts) and its providers."""

from __future__ import annotations

from agents.contracts import CustomerContext, Tool
from agents.integrations.tools import mcp_tools_for
from agents.models import Agent


def tools_for(agent: Agent, customer: CustomerContext | None) -> list[Tool]:
    """The tools this agent may use in a conversation with `customer`: the allowed tools of
    its active MCP servers, private ones only for a verified customer."""
    return list(mcp_tools_for(agent, customer))
