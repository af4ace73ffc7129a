"""How an agent answers. One interface; the knowledge-base responder is the default."""

from agents.responders.base import Reply, Responder, responder_for
from agents.responders.knowledge import KnowledgeBaseResponder

__all__ = ["KnowledgeBaseResponder", "Reply", "Responder", "responder_for"]
