"""Keep every process's knowledge index (agents.knowledge.search) true to the database.

Receivers (not a service) because the admin, its inlines, the API, the demo seed and shell
edits all write articles, and an answer from a stale index would cite an unpublished or
deleted article. Each receiver only replaces the agent's knowledge stamp; the next answer
in every process rebuilds. `bulk_create` and `QuerySet.update` send no signals: code that
uses them on articles calls `knowledge_changed` itself.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from agents.knowledge.search import knowledge_changed
from agents.models import KnowledgeArticle


@receiver([post_save, post_delete], sender=KnowledgeArticle)
def knowledge_article_changed(
    sender: type[KnowledgeArticle], instance: KnowledgeArticle, **kwargs: Any
) -> None:
    knowledge_changed(agent_pk=instance.agent_id)
