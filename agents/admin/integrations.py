"""The agent's MCP servers (its tools) and the log of their calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from agents.integrations.mcp import headers_validate, server_headers
from agents.integrations.servers import (
    customer_id_argument_validate,
    mcp_server_prepare,
    mcp_server_save,
    private_tools_check,
    server_url_validate,
    timeout_validate,
    tool_names_validate,
)
from agents.models import McpServer, ToolCall
from security.untrusted_json import UntrustedJsonError, untrusted_json_loads
from workspaces.scoped_admin import (
    ReadOnlyScopedAdmin,
    WorkspaceScopedInline,
    form_for_user,
)

T = TypeVar("T")


class McpServerForm(forms.ModelForm):
    url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        help_text="The server's MCP endpoint, e.g. https://your-store.myshopify.com/api/mcp.",
    )
    customer_id_argument = forms.CharField(
        required=False,
        max_length=60,
        help_text="The argument of private tools that receives the verified customer's id "
        "(empty: the preset's, else customer_id).",
    )
    headers = forms.CharField(
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text='Auth headers as JSON, e.g. {"Authorization": "Bearer …"}. Write-only: '
        "stored sealed and never shown again. Leave empty to keep the current ones; enter {} "
        "to remove them.",
    )

    class Meta:
        model = McpServer
        fields = [
            "name",
            "preset",
            "url",
            "transport",
            "headers",
            "allowed_tools",
            "private_tools",
            "customer_id_argument",
            "timeout_seconds",
            "is_active",
        ]

    def __init__(self, *args: Any, request_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_user = request_user

    def clean_url(self) -> str:
        return _checked(server_url_validate, str(self.cleaned_data.get("url") or ""))

    def clean_headers(self) -> dict[str, str] | None:
        raw = self.cleaned_data.get("headers") or ""
        if not raw:
            return None  # keep what is stored
        try:
            return headers_validate(untrusted_json_loads(raw))
        except UntrustedJsonError as exc:
            raise forms.ValidationError(f"Invalid JSON: it {exc}.") from None
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_allowed_tools(self) -> list[str]:
        return _checked(tool_names_validate, self.cleaned_data.get("allowed_tools") or [])

    def clean_private_tools(self) -> list[str]:
        return _checked(tool_names_validate, self.cleaned_data.get("private_tools") or [])

    def clean_customer_id_argument(self) -> str:
        name = str(self.cleaned_data.get("customer_id_argument") or "")
        preset = str(self.cleaned_data.get("preset") or "")
        return _checked(lambda value: customer_id_argument_validate(value, preset=preset), name)

    def clean_timeout_seconds(self) -> int:
        return _checked(timeout_validate, self.cleaned_data.get("timeout_seconds"))

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if "allowed_tools" in cleaned and "private_tools" in cleaned:
            try:
                private_tools_check(
                    allowed=cleaned["allowed_tools"],
                    private=cleaned["private_tools"],
                    preset=str(cleaned.get("preset") or ""),
                )
            except ValueError as exc:
                self.add_error("private_tools", str(exc))
        return cleaned

    def save(self, commit: bool = True) -> McpServer:
        server: McpServer = super().save(commit=False)
        headers = self.cleaned_data.get("headers")
        if not commit:
            mcp_server_prepare(server, headers=headers)
            return server
        return mcp_server_save(server, headers=headers, actor=self.request_user)


def _checked(rule: Callable[[Any], T], value: Any) -> T:
    """A field rule's ValueError as the form's error."""
    try:
        return rule(value)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from None


class McpServerInline(WorkspaceScopedInline, admin.StackedInline):
    """The agent's MCP servers (tools), e.g. its Shopify store."""

    model = McpServer
    form = McpServerForm
    extra = 0
    readonly_fields = ["headers_status", "recent_calls"]
    fieldsets = [
        (None, {"fields": ["name", "preset", "url", "transport", "is_active"]}),
        ("Authentication", {"fields": ["headers", "headers_status"]}),
        (
            "Tools",
            {
                "fields": [
                    "allowed_tools",
                    "private_tools",
                    "customer_id_argument",
                    "timeout_seconds",
                    "recent_calls",
                ],
                "description": "Choosing a preset fills the tools left empty when you save. "
                "Private tools run only for verified customers, with their id from the session.",
            },
        ),
    ]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = form_for_user(formset.form, request.user)
        return formset

    @admin.display(description="Stored headers")
    def headers_status(self, obj: McpServer) -> str:
        names = sorted(server_headers(obj)) if obj.pk else []
        return f"{', '.join(names)} (sealed)" if names else "none"

    @admin.display(description="Recent calls")
    def recent_calls(self, obj: McpServer) -> str:
        if not obj.pk:
            return "—"
        calls = ToolCall.objects.filter(server=obj).order_by("-created_at")[:5]
        rows = format_html_join(
            "",
            "<li>{} · {} · {} · {} ms {}</li>",
            (
                (
                    localtime(call.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                    call.tool,
                    "ok" if call.ok else "failed",
                    call.duration_ms,
                    call.error,
                )
                for call in calls
            ),
        )
        link = reverse("admin:agents_toolcall_changelist") + f"?server__id__exact={obj.pk}"
        return format_html('<ul>{}</ul><a href="{}">All calls of this server</a>', rows, link)


@admin.register(ToolCall)
class ToolCallAdmin(ReadOnlyScopedAdmin):
    """Read-only: what the agents' tools were asked and how it went (no secrets, no ids)."""

    deletable = False
    list_display = ["created_at", "tool", "ok", "duration_ms", "agent", "server", "error"]
    list_filter = [
        "ok",
        ("agent", admin.RelatedOnlyFieldListFilter),
        ("server", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["tool", "conversation_public_id", "error"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ToolCall]:
        return super().get_queryset(request).select_related("agent", "server")
