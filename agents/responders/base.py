from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from agents.models import Agent


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


class Responder(Protocol):
    """Turns a visitor's question (with the conversation so far) into the agent's reply."""

    # Whether visitors should see "typing…" while it works: worth two broadcasts only for
    # responders that take a noticeable time (an LLM), not for millisecond lookups.
    shows_typing: bool

    def respond(self, *, agent: Agent, question: str, history: list[HistoryItem]) -> Reply: ...


def responder_for(agent: Agent) -> Responder:
    # Only the knowledge-base responder exists so far; an LLM responder plugs in here.
    from agents.responders.knowledge import KnowledgeBaseResponder

    return KnowledgeBaseResponder()
