from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from agents.models import KnowledgeArticle, Membership, Workspace
from security.admin import WorkspaceScopedAdmin, WorkspaceScopedInline


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


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(WorkspaceScopedAdmin):
    agents_may_edit = True
    list_display = ["title", "agent", "is_published", "updated_at"]
    list_filter = ["is_published", "agent__workspace", "agent"]
    search_fields = ["title", "body"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[KnowledgeArticle]:
        return super().get_queryset(request).select_related("agent")


from agents import admin_keys  # noqa: E402, F401  (registers the API key admin)
