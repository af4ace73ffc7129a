from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from agents.admin import KnowledgeArticleInline, McpServerInline
from agents.hours import business_hours_validate
from agents.models import Agent
from agents.responders.llm_client import agent_llm_key_assign
from security.admin import WorkspaceScopedAdmin, WorkspaceScopedInline
from security.audit import audit_record, field_changes
from security.domains import allows_any_site
from security.outbound import Purpose, outbound_url_problem
from security.pii import PiiPolicy
from widgets import admin_experiments  # noqa: F401  (registers the A/B experiments admin)
from widgets.admin_customize import customize_urls
from widgets.admin_deploy import deploy_urls
from widgets.admin_identity import identity_view
from widgets.admin_pages import admin_link
from widgets.admin_releases import duplicate_agents, release_urls, releases_summary
from widgets.models import WidgetConfig
from widgets.snippet import widget_snippets_for
from widgets.validation import FORM_RULES


class WidgetConfigForm(forms.ModelForm):
    class Meta:
        model = WidgetConfig
        fields = [
            "allowed_domains",
            "position",
            "theme",
            "features",
            "starter_prompts",
            "triggers",
            "custom_css",
            "rate_limits",
            "core_version",
        ]

    # The rules live in widgets.validation, shared with the REST API and JSON import.
    def _rule(self, field: str) -> Any:
        try:
            return FORM_RULES[field](self.cleaned_data.get(field))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_allowed_domains(self) -> list[str]:
        return list(self._rule("allowed_domains"))

    def clean_starter_prompts(self) -> list[str]:
        return list(self._rule("starter_prompts"))

    def clean_triggers(self) -> dict[str, Any]:
        return dict(self._rule("triggers"))

    def clean_rate_limits(self) -> dict[str, int]:
        return dict(self._rule("rate_limits"))

    def clean_theme(self) -> dict[str, Any]:
        return dict(self._rule("theme"))

    def clean_features(self) -> list[str]:
        return list(self._rule("features"))

    def clean_custom_css(self) -> str:
        return str(self._rule("custom_css"))

    def clean_core_version(self) -> str:
        return str(self._rule("core_version"))


class WidgetConfigInline(WorkspaceScopedInline, admin.StackedInline):
    model = WidgetConfig
    form = WidgetConfigForm
    can_delete = False
    extra = 1
    max_num = 1
    verbose_name = "Widget"


AUDITED_WIDGET_FIELDS = ("allowed_domains", "rate_limits", "core_version")
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
# Where the agent's key goes: changes are audited (never the key itself).
AUDITED_LLM_FIELDS = ("responder", "llm_base_url", "llm_model")


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


@admin.register(Agent)
class AgentAdmin(WorkspaceScopedAdmin):
    form = AgentForm
    list_display = ["name", "public_id", "workspace", "is_active", "created_at"]
    list_filter = ["is_active", "workspace"]
    search_fields = ["name", "public_id"]
    readonly_fields = [
        "public_id",
        "embed_snippet",
        "widget_releases",
        "identity",
        "llm_api_key_status",
        "created_at",
        "updated_at",
    ]
    fields = [
        "workspace",
        "name",
        "public_id",
        "embed_snippet",
        "widget_releases",
        "greeting",
        "avatar_url",
        "is_active",
        "pii_masking",
        "pii_region",
        "identity_required",
        "identity",
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
        *HANDOFF_FIELDS,
        "created_at",
        "updated_at",
    ]
    inlines = [WidgetConfigInline, KnowledgeArticleInline, McpServerInline]
    actions = [duplicate_agents]

    def get_urls(self) -> list[URLPattern]:
        def identity(request: HttpRequest, object_id: str) -> HttpResponse:
            return identity_view(request, self, object_id)

        custom = [
            path(
                "<path:object_id>/identity/",
                self.admin_site.admin_view(identity),
                name="agents_agent_identity",
            ),
            *release_urls(self),  # widgets.admin_releases: publish, rollback, presets, JSON
            *deploy_urls(self),  # widgets.admin_deploy: snippet, guides, installation check
            *customize_urls(self),  # widgets.admin_customize: the live-preview customizer
        ]
        return custom + super().get_urls()

    def save_model(self, request: HttpRequest, obj: Agent, form: Any, change: bool) -> None:
        new_key = form.cleaned_data.get("llm_api_key") or ""
        forget_key = bool(form.cleaned_data.get("llm_api_key_clear")) and not new_key
        had_key = bool(obj.llm_api_key_sealed)
        if new_key or forget_key:
            agent_llm_key_assign(agent=obj, api_key=new_key)
        super().save_model(request, obj, form, change)
        llm_changes = {
            name: {"from": form.initial.get(name), "to": getattr(obj, name)}
            for name in AUDITED_LLM_FIELDS
            if name in form.changed_data
        }
        key_now = "set" if new_key else "unset" if forget_key and had_key else None
        if key_now:  # that it changed, never the key
            llm_changes["llm_api_key"] = {"from": "set" if had_key else "unset", "to": key_now}
        if change and llm_changes:
            audit_record(
                action="agent.llm_changed",
                target=obj.public_id,
                actor=request.user,
                workspace_id=obj.workspace_id,
                changes=llm_changes,
            )
        if change and "identity_required" in form.changed_data:
            audit_record(
                action="identity.required",
                target=obj.public_id,
                actor=request.user,
                workspace_id=obj.workspace_id,
                changes={
                    "identity_required": {
                        "from": not obj.identity_required,
                        "to": obj.identity_required,
                    }
                },
            )
        audited = [name for name in ("pii_masking", "pii_region") if name in form.changed_data]
        if change and audited:
            audit_record(
                action="agent.pii_changed",
                target=obj.public_id,
                actor=request.user,
                workspace_id=obj.workspace_id,
                changes={
                    name: {"from": form.initial.get(name), "to": getattr(obj, name)}
                    for name in audited
                },
            )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        return super().get_queryset(request).select_related("workspace")

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Audit who changed where the widget may run and how it is limited; warn on '*'."""
        before: dict[int, dict[str, Any]] = {}
        if formset.model is WidgetConfig:
            # From the database: validation has already written the new values onto the
            # forms' instances.
            ids = [f.instance.pk for f in formset.forms if f.instance.pk]
            rows = WidgetConfig.objects.filter(pk__in=ids).values("pk", *AUDITED_WIDGET_FIELDS)
            before = {row.pop("pk"): row for row in rows}
        super().save_formset(request, form, formset, change)
        if formset.model is not WidgetConfig:
            return
        for widget_form in formset.forms:
            config = widget_form.instance
            if config.pk is None:
                continue
            after = {name: getattr(config, name) for name in AUDITED_WIDGET_FIELDS}
            changes = field_changes(before.get(config.pk, {}), after)
            if changes:
                audit_record(
                    action="widget.access_changed",
                    target=config.agent.public_id,
                    actor=request.user,
                    workspace_id=config.agent.workspace_id,
                    changes=changes,
                )
            if allows_any_site(config.allowed_domains):
                messages.warning(
                    request,
                    f"{config.agent.name}: '*' lets any website embed this agent and use it "
                    "at your expense. List your sites' hosts instead.",
                )

    @admin.display(description="Embed snippet")
    def embed_snippet(self, obj: Agent) -> str:
        if not obj.pk:
            return "Save the agent to get its snippet."
        snippets = widget_snippets_for(obj)
        return format_html(
            "<pre style='white-space:pre-wrap;margin:0'>{}</pre>"
            "<div class='help'>Paste before &lt;/body&gt; on your site, and add the site's "
            "host to Allowed domains below. Zero-config form: <code>{}</code></div>"
            "<p><a href='{}' data-ca='deploy-page-link'>Deploy on my site →</a> "
            "(copy buttons, install guides, installation check)</p>",
            snippets["configured"],
            snippets["zeroConfig"],
            admin_link("widget_deploy", obj),
        )

    @admin.display(description="Widget releases")
    def widget_releases(self, obj: Agent) -> str:
        return releases_summary(obj)

    @admin.display(description="API key")
    def llm_api_key_status(self, obj: Agent) -> str:
        if obj.llm_api_key_sealed:
            return "Set (sealed; type a new one below to replace it)."
        if obj.llm_base_url:
            return "Not set: the agent's own server is called without a key."
        return "Not set: the platform's server is called with LLM_API_KEY."

    @admin.display(description="Identity verification")
    def identity(self, obj: Agent) -> str:
        if not obj.pk:
            return "Save the agent first."
        live = obj.identity_keys.filter(retires_at__isnull=True).count()
        return format_html(
            "{} live key(s) &middot; {} &middot; <a href='{}' data-ca='identity-link'>"
            "Keys, secret and token tester &rarr;</a>",
            live,
            "only verified customers may chat"
            if obj.identity_required
            else "anonymous visitors may chat",
            reverse("admin:agents_agent_identity", args=[obj.pk]),
        )
