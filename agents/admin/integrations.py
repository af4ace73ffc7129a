"""The agent's MCP servers (its tools) and the log of their calls."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from agents.integrations.mcp import headers_seal, headers_validate, mcp_url_problem, server_headers
from agents.integrations.presets import PRESETS, preset_defaults_apply
from agents.models import McpServer, ToolCall
from security.admin import WorkspaceScopedAdmin, WorkspaceScopedInline, form_for_user
from security.audit import audit_record
from security.untrusted_json import UntrustedJsonError, untrusted_json_loads


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
        url = str(self.cleaned_data.get("url") or "")
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Enter the server's http(s) URL.")
        problem = mcp_url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url

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

    def _tool_names(self, field: str) -> list[str]:
        value: Any = self.cleaned_data.get(field) or []
        if not isinstance(value, list) or not all(
            isinstance(name, str) and 0 < len(name.strip()) <= 120 for name in value
        ):
            raise forms.ValidationError(
                'Enter a JSON list of tool names, e.g. ["search_products"].'
            )
        return sorted({name.strip() for name in value})

    def clean_allowed_tools(self) -> list[str]:
        return self._tool_names("allowed_tools")

    def clean_private_tools(self) -> list[str]:
        return self._tool_names("private_tools")

    def clean_customer_id_argument(self) -> str:
        name = str(self.cleaned_data.get("customer_id_argument") or "").strip()
        if not name:
            preset = PRESETS.get(str(self.cleaned_data.get("preset") or ""))
            return preset.customer_id_argument if preset else "customer_id"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,59}", name):
            raise forms.ValidationError("Use the argument's name as the tools spell it.")
        return name

    def clean_timeout_seconds(self) -> int:
        seconds = int(self.cleaned_data.get("timeout_seconds") or 0)
        if not 1 <= seconds <= 60:
            raise forms.ValidationError("Between 1 and 60 seconds.")
        return seconds

    def save(self, commit: bool = True) -> McpServer:
        server: McpServer = super().save(commit=False)
        preset_defaults_apply(server)  # a preset fills what was left blank
        headers = self.cleaned_data.get("headers")
        if headers is not None:
            server.sealed_headers = headers_seal(headers)
        if commit:
            server.save()
        if headers is not None and server.agent_id:
            audit_record(
                action="mcp.headers_changed",
                target=f"{server.name} ({server.url})",
                actor=self.request_user,
                workspace_id=server.agent.workspace_id,
                changes={"headers": sorted(headers)},  # the names, never the values
            )
        return server


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
class ToolCallAdmin(WorkspaceScopedAdmin):
    """Read-only: what the agents' tools were asked and how it went (no secrets, no ids)."""

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

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
