from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from conversations.inbox_selectors import StaffUser
from conversations.lifecycle import conversation_status_set
from conversations.models import Conversation, Message
from conversations.staff import conversation_resolve
from customers.profiles import customer_facts
from security.audit import audit_record
from workspaces.scoped_admin import WorkspaceScopedAdmin, WorkspaceScopedInline

# The admin's home leads with the live inbox (conversations/admin_inbox.py).
admin.site.index_template = "admin/conversations/index.html"


class MessageInline(WorkspaceScopedInline, admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "role", "author", "text", "public_id"]
    readonly_fields = ["created_at", "role", "author", "text", "public_id"]
    can_delete = False
    ordering = ["id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(WorkspaceScopedAdmin):
    agents_may_edit = True
    list_display = [
        "public_id",
        "agent",
        "status",
        "assigned_to",
        "visitor_id",
        "customer",
        "origin",
        "csat_score",
        "last_message_at",
    ]
    list_filter = ["status", "resolved_by", "csat_score", "agent__workspace", "agent"]
    search_fields = ["public_id", "visitor_id", "messages__text", "customer__email"]
    readonly_fields = [
        "public_id",
        "agent",
        "visitor_id",
        "owner_key",
        "customer",
        "customer_profile",
        "origin",
        "page_url",
        "created_at",
        "updated_at",
        "last_message_at",
        "resolved_at",
        "csat_score",
        "csat_comment",
        # Held, handed off and resolved through the inbox (conversations.staff), which
        # tells the visitor; not edited here behind their back.
        "assigned_to",
        "handoff_reason",
        "handed_off_at",
        "resolved_by",
    ]
    inlines = [MessageInline]
    date_hierarchy = "created_at"
    actions = ["mark_resolved"]

    def save_model(self, request: HttpRequest, obj: Conversation, form: Any, change: bool) -> None:
        if change and "status" in form.changed_data:
            if obj.status == Conversation.Status.RESOLVED:  # as the inbox resolves it
                conversation_resolve(user=_staff(request), conversation_id=obj.public_id)
            else:
                conversation_status_set(conversation=obj, status=obj.status)  # tells the widget
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description="Mark resolved (asks the visitor for a rating)")
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        """Resolved by this person, exactly as the inbox's "Resolve" does it."""
        for conversation in queryset.exclude(status=Conversation.Status.RESOLVED):
            conversation_resolve(user=_staff(request), conversation_id=conversation.public_id)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # conversations start from a channel, never from the admin

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Support agents work conversations; deleting a transcript is for owners and admins.
        return self._may_edit(request, obj, managers_only=True)

    def delete_model(self, request: HttpRequest, obj: Conversation) -> None:
        _deletion_audit(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        _deletion_audit(request, list(queryset.select_related("agent")))
        super().delete_queryset(request, queryset)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).select_related("agent", "customer")

    @admin.display(description="Who and what the agent remembers")
    def customer_profile(self, obj: Conversation) -> str:
        customer = obj.customer
        if customer is None:
            return f"Anonymous visitor {obj.visitor_id}"
        facts = customer_facts(customer.pk, limit=12)
        return format_html(
            "<a href='{}'>{}</a> · <code>{}</code> · {}{}",
            reverse("admin:customers_customer_change", args=[customer.pk]),
            customer,
            customer.external_id,
            "verified" if customer.is_verified else "unverified claim",
            format_html(
                "<ul style='margin:4px 0 0;padding-left:1.2em'>{}</ul>",
                format_html_join(
                    "",
                    "<li><strong>{}</strong>: {} <small>({})</small></li>",
                    ((f.key, f.value[:200], f.source) for f in facts),
                ),
            )
            if facts
            else "",
        )


@admin.register(Message)
class MessageAdmin(WorkspaceScopedAdmin):
    list_display = ["public_id", "conversation", "role", "short_text", "created_at"]
    list_filter = ["role", "conversation__agent"]
    search_fields = ["text", "public_id", "conversation__public_id"]
    readonly_fields = [
        "public_id",
        "conversation",
        "role",
        "text",
        "client_id",
        "metadata",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the transcript is a record; staff replies come with the inbox

    @admin.display(description="text")
    def short_text(self, obj: Message) -> str:
        return obj.text[:80]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("conversation")


def _staff(request: HttpRequest) -> StaffUser:
    """The admin's user: signed in (the admin site lets no one else reach an action)."""
    return cast(StaffUser, request.user)


def _deletion_audit(request: HttpRequest, conversations: list[Conversation]) -> None:
    for conversation in conversations:
        audit_record(
            action="conversation.deleted",
            target=conversation.public_id,
            actor=request.user,
            workspace_id=conversation.agent.workspace_id,
            changes={"messages": conversation.messages.count()},
        )
