from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest
from django.utils.html import format_html

from agents.models import Agent, KnowledgeArticle, Membership, Workspace
from security.admin import WorkspaceScopedAdmin, WorkspaceScopedInline
from widgets.admin import WidgetConfigInline
from widgets.snippet import embed_snippet as snippet_configured
from widgets.snippet import embed_snippet_zero_config as snippet_zero_config


@admin.register(Workspace)
class WorkspaceAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(WorkspaceScopedAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "user__email", "workspace__name"]

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name == "user" and not request.user.is_superuser:
            # Only people already in one of your workspaces, never the whole user table.
            field.queryset = (
                get_user_model()
                .objects.filter(memberships__workspace__memberships__user=request.user.pk)
                .distinct()
            )
        return field


class KnowledgeArticleInline(WorkspaceScopedInline, admin.TabularInline):
    model = KnowledgeArticle
    extra = 0
    fields = ["title", "is_published", "source_url", "updated_at"]
    readonly_fields = ["updated_at"]
    show_change_link = True


@admin.register(Agent)
class AgentAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "public_id", "workspace", "is_active", "created_at"]
    list_filter = ["is_active", "workspace"]
    search_fields = ["name", "public_id"]
    readonly_fields = ["public_id", "embed_snippet", "created_at", "updated_at"]
    fields = [
        "workspace",
        "name",
        "public_id",
        "embed_snippet",
        "greeting",
        "avatar_url",
        "is_active",
        "created_at",
        "updated_at",
    ]
    inlines = [WidgetConfigInline, KnowledgeArticleInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        return super().get_queryset(request).select_related("workspace")

    @admin.display(description="Embed snippet")
    def embed_snippet(self, obj: Agent) -> str:
        if not obj.pk:
            return "Save the agent to get its snippet."
        return format_html(
            "<pre style='white-space:pre-wrap;margin:0'>{}</pre>"
            "<div class='help'>Paste before &lt;/body&gt; on your site, and add the site's "
            "host to Allowed domains below. Zero-config form: <code>{}</code></div>",
            snippet_configured(obj.public_id),
            snippet_zero_config(obj.public_id),
        )


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(WorkspaceScopedAdmin):
    agents_may_edit = True
    list_display = ["title", "agent", "is_published", "updated_at"]
    list_filter = ["is_published", "agent__workspace", "agent"]
    search_fields = ["title", "body"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[KnowledgeArticle]:
        return super().get_queryset(request).select_related("agent")
