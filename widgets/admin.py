from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from agents.admin import KnowledgeArticleInline
from agents.models import Agent
from security.admin import WorkspaceScopedAdmin, WorkspaceScopedInline
from security.audit import audit_record, field_changes
from security.domains import allows_any_site, invalid_patterns
from security.limits import limit_overrides_validate
from security.pii import PiiPolicy
from widgets.admin_identity import identity_view
from widgets.models import WidgetConfig
from widgets.snippet import embed_snippet as snippet_configured
from widgets.snippet import embed_snippet_zero_config as snippet_zero_config
from widgets.triggers import triggers_validate


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
        ]

    def clean_allowed_domains(self) -> list[str]:
        value: Any = self.cleaned_data.get("allowed_domains") or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise forms.ValidationError('Enter a JSON list of hosts, e.g. ["shop.example.com"].')
        bad = invalid_patterns(value)
        if bad:
            raise forms.ValidationError(f"Not a host or *.host pattern: {', '.join(bad)}")
        return [v.strip() for v in value]

    def clean_starter_prompts(self) -> list[str]:
        value: Any = self.cleaned_data.get("starter_prompts") or []
        if (
            not isinstance(value, list)
            or len(value) > 4
            or not all(isinstance(v, str) and 0 < len(v.strip()) <= 80 for v in value)
        ):
            raise forms.ValidationError("Enter up to 4 questions of at most 80 characters.")
        return [v.strip() for v in value]

    def clean_triggers(self) -> dict[str, Any]:
        try:
            return triggers_validate(self.cleaned_data.get("triggers"))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_rate_limits(self) -> dict[str, int]:
        try:
            return limit_overrides_validate(self.cleaned_data.get("rate_limits"))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class WidgetConfigInline(WorkspaceScopedInline, admin.StackedInline):
    model = WidgetConfig
    form = WidgetConfigForm
    can_delete = False
    extra = 1
    max_num = 1
    verbose_name = "Widget"


AUDITED_WIDGET_FIELDS = ("allowed_domains", "rate_limits")


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
        ]

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
    readonly_fields = ["public_id", "embed_snippet", "identity", "created_at", "updated_at"]
    fields = [
        "workspace",
        "name",
        "public_id",
        "embed_snippet",
        "greeting",
        "avatar_url",
        "is_active",
        "pii_masking",
        "pii_region",
        "identity_required",
        "identity",
        "created_at",
        "updated_at",
    ]
    inlines = [WidgetConfigInline, KnowledgeArticleInline]

    def get_urls(self) -> list[URLPattern]:
        def identity(request: HttpRequest, object_id: str) -> HttpResponse:
            return identity_view(request, self, object_id)

        custom = [
            path(
                "<path:object_id>/identity/",
                self.admin_site.admin_view(identity),
                name="agents_agent_identity",
            )
        ]
        return custom + super().get_urls()

    def save_model(self, request: HttpRequest, obj: Agent, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
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
        return format_html(
            "<pre style='white-space:pre-wrap;margin:0'>{}</pre>"
            "<div class='help'>Paste before &lt;/body&gt; on your site, and add the site's "
            "host to Allowed domains below. Zero-config form: <code>{}</code></div>",
            snippet_configured(obj.public_id),
            snippet_zero_config(obj.public_id),
        )

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
