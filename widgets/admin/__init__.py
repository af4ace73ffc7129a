from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from agents.admin import AgentAdmin
from agents.admin.agent import HANDOFF_FIELDS, LLM_ADMIN_FIELDS
from agents.models import Agent
from security.audit import audit_record, field_changes
from security.domains import allows_any_site
from widgets.admin.customize import customize_urls
from widgets.admin.deploy import deploy_urls
from widgets.admin.identity import identity_view
from widgets.admin.pages import admin_link
from widgets.admin.releases import duplicate_agents, release_urls, releases_summary
from widgets.config.validation import FORM_RULES
from widgets.installation.snippet import widget_snippets_for
from widgets.models import WidgetConfig
from workspaces.scoped_admin import WorkspaceScopedInline


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

    # The rules live in widgets.config.validation, shared with the REST API and JSON import.
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


@admin.register(Agent)
class AgentPageAdmin(AgentAdmin):
    """The agent page: agents' own fields (agents.admin.AgentAdmin) with the widget around
    them — its config inline, releases, snippet, identity keys and the customizer."""

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
        *LLM_ADMIN_FIELDS,
        *HANDOFF_FIELDS,
        "created_at",
        "updated_at",
    ]
    inlines = [WidgetConfigInline, *AgentAdmin.inlines]
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
            *release_urls(self),  # widgets.admin.releases: publish, rollback, presets, JSON
            *deploy_urls(self),  # widgets.admin.deploy: snippet, guides, installation check
            *customize_urls(self),  # widgets.admin.customize: the live-preview customizer
        ]
        return custom + super().get_urls()

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
