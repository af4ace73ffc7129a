"""How an agent answers. One interface; the knowledge-base responder is the default."""

from agents.answering.responders.knowledge import KnowledgeBaseResponder
from agents.answering.responders.registry import responder_for
from agents.contracts import Reply, Responder

__all__ = ["KnowledgeBaseResponder", "Reply", "Responder", "responder_for"]
