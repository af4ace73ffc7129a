"""Tools an agent's model may call: the interface responders use, whatever serves the tool.

`tools_for(agent, customer)` (agents.answering.toolbox) lists the tools available in one
conversation; the MCP integration (agents.integrations.tools) provides them from each of the
agent's MCP servers. A tool that reads one customer's private data is offered only to a
verified customer and is called with that customer's id from the session, never an id
taken from the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from agents.answering.responders.base import CustomerContext
from agents.models import Agent


@dataclass(frozen=True)
class ToolSpec:
    """What the model is told about a tool (an OpenAI function definition)."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True)
class ToolContext:
    agent: Agent
    conversation_public_id: str
    customer: CustomerContext | None


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    # What the model reads back.
    text: str
    # Structured results the widget can show, e.g. product cards:
    # [{"title", "price", "imageUrl", "url"}].
    cards: list[dict[str, Any]] = field(default_factory=list)
    # Short replies the visitor can send with one tap, e.g. "More about Ridgeline 2".
    quick_replies: list[str] = field(default_factory=list)


class Tool(Protocol):
    spec: ToolSpec

    def call(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult: ...
