"""The contracts between the parts of an agent: what a responder is given and gives back,
and what a tool is, whatever serves it.

A responder (agents.answering.responders) answers a question from its history and, for a
verified customer, what we know of them. Tools an agent's model may call are listed per
conversation by `tools_for(agent, customer)` (agents.answering.toolbox); the MCP integration
(agents.integrations.tools) provides them from each of the agent's MCP servers. A tool that
reads one customer's private data is offered only to a verified customer and is called
with that customer's id from the session, never an id taken from the conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agents.models import Agent
from customers.models import Customer
from customers.profiles import Fact, customer_facts


@dataclass(frozen=True)
class HistoryItem:
    role: str
    text: str


@dataclass(frozen=True)
class Reply:
    text: str
    # False when the responder could not answer and says so (a person should be offered).
    answered: bool
    sources: list[dict[str, Any]] = field(default_factory=list)
    handoff_suggested: bool = False
    # What tools returned for the widget to show, e.g. product cards.
    cards: list[dict[str, Any]] = field(default_factory=list)
    # Short answers the visitor can send with one tap (tools' ToolResult.quick_replies).
    quick_replies: list[str] = field(default_factory=list)
    # Facts about how the reply was made, stored with it: model, token usage, latency,
    # why a fallback answered.
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerContext:
    """Who the agent is talking to, when known, and what it remembers about them.

    Facts from an unverified customer (source "claimed") are what a page said about
    itself: a responder may use them for tone, never to reveal or act on private data.
    """

    external_id: str
    verified: bool
    name: str = ""
    email: str = ""
    facts: list[Fact] = field(default_factory=list)

    @classmethod
    def of(cls, customer: Customer) -> CustomerContext:
        """A customer as every responder and tool sees them, with what we remember."""
        return cls(
            external_id=customer.external_id,
            verified=customer.is_verified,
            name=customer.name,
            email=customer.email,
            facts=customer_facts(customer.pk),
        )


class Responder(Protocol):
    """Turns a visitor's question (with the conversation so far) into the agent's reply."""

    # Whether visitors should see "typing…" while it works: worth two broadcasts only for
    # responders that take a noticeable time (an LLM), not for millisecond lookups.
    shows_typing: bool

    def respond(
        self,
        *,
        agent: Agent,
        question: str,
        history: list[HistoryItem],
        customer: CustomerContext | None = None,
        conversation_id: str = "",
        owner_key: str = "",
        on_delta: Callable[[str], None] | None = None,
    ) -> Reply:
        """`conversation_id` and `owner_key` (whose conversation, for budgets and tools)
        are empty outside a conversation. A responder that streams calls `on_delta` with
        each piece of text as it is produced; the reply's text is the final word."""
        ...


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
