from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from agents.models import Agent
from customers.profiles import Fact


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
    ) -> Reply: ...


def responder_for(agent: Agent) -> Responder:
    # Only the knowledge-base responder exists so far; an LLM responder plugs in here.
    from agents.responders.knowledge import KnowledgeBaseResponder

    return KnowledgeBaseResponder()
