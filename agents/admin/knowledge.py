"""What the agents know: their knowledge articles."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from agents.models import KnowledgeArticle
from workspaces.scoped_admin import WorkspaceScopedAdmin, WorkspaceScopedInline


class KnowledgeArticleInline(WorkspaceScopedInline, admin.TabularInline):
    model = KnowledgeArticle
    extra = 0
    fields = ["title", "is_published", "source_url", "updated_at"]
    readonly_fields = ["updated_at"]
    show_change_link = True


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(WorkspaceScopedAdmin):
    """Managers only, as in the REST API (agents/api/knowledge.py): what the agent is
    told is the workspace's voice, and a way to instruct its model."""

    list_display = ["title", "agent", "is_published", "updated_at"]
    list_filter = ["is_published", "agent__workspace", "agent"]
    search_fields = ["title", "body"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[KnowledgeArticle]:
        return super().get_queryset(request).select_related("agent")
