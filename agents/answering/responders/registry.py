"""Which responder answers for an agent. Above the contract (base) and its
implementations, so the contract names none of them."""

from __future__ import annotations

from agents.answering.responders.knowledge import KnowledgeBaseResponder
from agents.answering.responders.llm import LlmResponder
from agents.contracts import Responder
from agents.models import Agent


def responder_for(agent: Agent) -> Responder:
    """The LLM responder when the agent asks for one, else the knowledge base."""
    if agent.responder == agent.ResponderKind.LLM:
        return LlmResponder()
    return KnowledgeBaseResponder()
