from __future__ import annotations

from collections.abc import Callable

from agents.contracts import CustomerContext, HistoryItem, Reply
from agents.knowledge.search import search_articles
from agents.models import Agent

NO_ANSWER = (
    "I'm sorry, I don't have an answer to that in my knowledge base. "
    "Would you like me to connect you with a person from our team?"
)


class KnowledgeBaseResponder:
    """Answers with the best passage of the best matching article, citing it."""

    shows_typing = False

    def respond(
        self,
        *,
        agent: Agent,
        question: str,
        history: list[HistoryItem],
        customer: CustomerContext | None = None,
        conversation_id: str = "",
        owner_key: str = "",
        on_delta: Callable[[str], None] | None = None,  # answers in one piece
    ) -> Reply:
        results = search_articles(agent=agent, question=question)
        if not results:
            return Reply(text=NO_ANSWER, answered=False, handoff_suggested=True)
        top = results[0].article
        passage = results[0].passage(question)
        source = f"Source: {top.title}" + (f" — {top.source_url}" if top.source_url else "")
        return Reply(
            text=f"{passage}\n\n{source}",
            answered=True,
            sources=[
                {"articleId": top.pk, "title": top.title, "url": top.source_url}
                for top in (r.article for r in results[:3])
            ],
        )
