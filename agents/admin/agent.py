"""The agent's own settings page: its model, key, identity rule, PII policy and handoff.

Not registered here: the widgets app composes the full agent page (widget config,
releases, snippet, customizer) on top of `AgentAdmin` and registers it
(widgets/admin), so agents never imports widgets.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from agents.admin.integrations import McpServerInline
from agents.admin.knowledge import KnowledgeArticleInline
from agents.answering.hours import business_hours_validate
from agents.models import Agent
from agents.services import agent_save
from security.outbound import Purpose, outbound_url_problem
from security.pii import PiiPolicy
from workspaces.scoped_admin import WorkspaceScopedAdmin

LLM_FIELDS = (
    "responder",
    "system_prompt",
    "llm_base_url",
    "llm_model",
    "llm_max_output_tokens",
    "llm_timeout_seconds",
    "monthly_token_budget",
    "customer_daily_token_budget",
)
# When a person takes over (conversations.handoff) and when the team answers.
HANDOFF_FIELDS = ("handoff_keywords", "handoff_vip_attribute", "business_hours", "away_message")
# The model fields as the page shows them: the key's status and inputs after the model.
LLM_ADMIN_FIELDS = (
    "responder",
    "system_prompt",
    "llm_base_url",
    "llm_model",
    "llm_api_key_status",
    "llm_api_key",
    "llm_api_key_clear",
    "llm_max_output_tokens",
    "llm_timeout_seconds",
    "monthly_token_budget",
    "customer_daily_token_budget",
)


class AgentForm(forms.ModelForm):
    class Meta:
        model = Agent
        fields = [
            "workspace",
            "name",
            "greeting",
            "avatar_url",
            "is_active",
            "pii_masking",
            "pii_region",
            "identity_required",
            *LLM_FIELDS,
            *HANDOFF_FIELDS,
        ]
        help_texts = {
            "llm_base_url": "An OpenAI-compatible server of your own, on a public address. "
            "Empty: the platform's model server (LLM_BASE_URL) with the platform's key. Your "
            "own server never receives the platform's key: only the API key below, or none.",
        }

    # Write-only: the key is sealed on save and never rendered back.
    llm_api_key = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="The model server's key, stored sealed and never shown again. Leave empty "
        "to keep the current one.",
    )
    llm_api_key_clear = forms.BooleanField(
        label="Forget the stored API key",
        required=False,
        help_text="Then the platform's server is called with LLM_API_KEY, and a server of "
        "the agent's own with no key.",
    )

    def clean_llm_base_url(self) -> str:
        url = str(self.cleaned_data.get("llm_base_url") or "")
        # Checked again before every answer: DNS may change.
        problem = outbound_url_problem(url, purpose=Purpose.LLM) if url else None
        if problem:
            raise forms.ValidationError(
                f"{problem} Leave it empty to use the platform's model server."
            )
        return url

    def clean_llm_timeout_seconds(self) -> int:
        seconds = int(self.cleaned_data.get("llm_timeout_seconds") or 0)
        if not 1 <= seconds <= 120:
            raise forms.ValidationError("Between 1 and 120 seconds.")
        return seconds

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.has_error("llm_base_url"):
            return cleaned
        if cleaned.get("responder") == Agent.ResponderKind.LLM and not (
            (cleaned.get("llm_base_url") or settings.LLM_BASE_URL)
            and (cleaned.get("llm_model") or settings.LLM_MODEL)
        ):
            raise forms.ValidationError(
                "A language model needs a server URL and a model name, here or in "
                "LLM_BASE_URL and LLM_MODEL."
            )
        return cleaned

    def clean_handoff_keywords(self) -> list[str]:
        value: Any = self.cleaned_data.get("handoff_keywords") or []
        if (
            not isinstance(value, list)
            or len(value) > 50
            or not all(isinstance(v, str) and 0 < len(v.strip()) <= 60 for v in value)
        ):
            raise forms.ValidationError(
                'Enter a JSON list of up to 50 words or phrases, e.g. ["refund", "lawyer"].'
            )
        return [v.strip() for v in value]

    def clean_business_hours(self) -> dict[str, Any]:
        try:
            return business_hours_validate(self.cleaned_data.get("business_hours"))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_pii_masking(self) -> Any:
        value = self.cleaned_data.get("pii_masking") or {}
        try:
            PiiPolicy.from_config(value or None)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return value

    def clean_pii_region(self) -> str:
        region = str(self.cleaned_data.get("pii_region") or "").upper()
        if len(region) != 2 or not region.isalpha():
            raise forms.ValidationError("Use a two-letter country code such as US or FR.")
        return region


class AgentAdmin(WorkspaceScopedAdmin):
    """The agent's fields and its knowledge and tools; saving goes through
    agents.services.agent_save (the key sealed, the changes audited)."""

    form = AgentForm
    list_display = ["name", "public_id", "workspace", "is_active", "created_at"]
    list_filter = ["is_active", "workspace"]
    search_fields = ["name", "public_id"]
    readonly_fields = ["public_id", "llm_api_key_status", "created_at", "updated_at"]
    fields = [
        "workspace",
        "name",
        "public_id",
        "greeting",
        "avatar_url",
        "is_active",
        "pii_masking",
        "pii_region",
        "identity_required",
        *LLM_ADMIN_FIELDS,
        *HANDOFF_FIELDS,
        "created_at",
        "updated_at",
    ]
    inlines = [KnowledgeArticleInline, McpServerInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        return super().get_queryset(request).select_related("workspace")

    def save_model(self, request: HttpRequest, obj: Agent, form: Any, change: bool) -> None:
        agent_save(
            agent=obj,
            by=request.user,
            before={name: form.initial.get(name) for name in form.changed_data},
            created=not change,
            llm_api_key=form.cleaned_data.get("llm_api_key") or "",
            llm_api_key_forget=bool(form.cleaned_data.get("llm_api_key_clear")),
        )

    @admin.display(description="API key")
    def llm_api_key_status(self, obj: Agent) -> str:
        if obj.llm_api_key_sealed:
            return "Set (sealed; type a new one below to replace it)."
        if obj.llm_base_url:
            return "Not set: the agent's own server is called without a key."
        return "Not set: the platform's server is called with LLM_API_KEY."
