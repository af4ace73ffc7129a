"""Admin for A/B experiments: variants inline, start/stop/promote, and a results page.

The results page draws its chart on the server as SVG (bars with confidence intervals):
no script, so the admin's `script-src 'self'` policy has nothing to allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from core.errors import ApiError
from experiments.models import Experiment, ExperimentResult, ExperimentVariant
from experiments.results import experiment_latest_result, experiment_results_compute
from experiments.services import (
    VariantIn,
    experiment_create,
    experiment_deletable,
    experiment_delete,
    experiment_key_validate,
    experiment_promote,
    experiment_settings_validate,
    experiment_start,
    experiment_stop,
    experiment_update,
    variants_validate,
)
from experiments.stats import confidence_validate
from widgets.delivery.variants import overrides_validate
from workspaces.scoped_admin import WorkspaceScopedAdmin, WorkspaceScopedInline

CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 560, 260, 20, 40


class ExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = [
            "agent",
            "key",
            "name",
            "primary_metric",
            "min_samples_per_variant",
            "confidence",
            "auto_promote",
        ]

    def clean_key(self) -> str:
        try:
            return experiment_key_validate(self.cleaned_data.get("key"))
        except ApiError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        agent = cleaned.get("agent")
        if agent is not None:
            # Always the agent's workspace, set before the admin judges it (the user's
            # role there decides whether they may create or change this experiment).
            self.instance.workspace_id = agent.workspace_id
        return cleaned

    def clean_confidence(self) -> float:
        try:
            return confidence_validate(self.cleaned_data.get("confidence"))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_min_samples_per_variant(self) -> int:
        samples = int(self.cleaned_data.get("min_samples_per_variant") or 0)
        try:
            experiment_settings_validate({"min_samples_per_variant": samples})
        except ApiError as exc:
            raise forms.ValidationError(exc.message) from None
        return samples

    def settings(self) -> dict[str, Any]:
        """What changed, as `experiment_create`/`experiment_update` take it."""
        changed = self.changed_data if self.instance.pk else self.cleaned_data
        return {name: self.cleaned_data[name] for name in changed if name in self.cleaned_data}


class VariantForm(forms.ModelForm):
    class Meta:
        model = ExperimentVariant
        fields = ["key", "weight", "overrides"]
        help_texts = {
            "overrides": 'e.g. {"greeting": "Need a hand?", "position": "bottom-left", '
            '"triggers": {"delayMs": 3000}, "theme": {"primaryColor": "#0f766e"}, '
            '"starterPrompts": ["Where is my order?"]}'
        }

    def clean_key(self) -> str:
        try:
            return experiment_key_validate(self.cleaned_data.get("key"))
        except ApiError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_overrides(self) -> dict[str, Any]:
        try:
            return overrides_validate(self.cleaned_data.get("overrides"))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


def formset_variants(formset: BaseInlineFormSet) -> list[VariantIn]:
    """The variants a valid inline formset describes (the ones not marked for deletion)."""
    return [
        VariantIn(
            form.cleaned_data["key"], form.cleaned_data["weight"], form.cleaned_data["overrides"]
        )
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class VariantFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors) or not self.has_changed():
            return
        try:  # the service's rule, checked here so the page names it beside the variants
            variants_validate(formset_variants(self))
        except ApiError as exc:
            raise forms.ValidationError(exc.message) from None


class VariantInline(WorkspaceScopedInline, admin.TabularInline):
    model = ExperimentVariant
    form = VariantForm
    formset = VariantFormSet
    extra = 2

    def _draft(self, obj: Any) -> bool:
        return obj is None or obj.status == Experiment.Status.DRAFT

    # Variants change only while the experiment is a draft: a change mid-run would move
    # visitors between variants.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_delete_permission(request, obj)


@dataclass(frozen=True)
class Bar:
    key: str
    x: float
    width: float
    y: float
    height: float
    whisker_top: float
    whisker_bottom: float
    label: str
    detail: str

    @property
    def centre(self) -> float:
        return self.x + self.width / 2

    @property
    def cap_left(self) -> float:
        return self.centre - self.width / 6

    @property
    def cap_right(self) -> float:
        return self.centre + self.width / 6


def results_chart(result: ExperimentResult, metric: str) -> list[Bar]:
    """Bar geometry (SVG user units) for each variant's value and confidence interval."""
    rows = result.variants or {}
    is_csat = metric == Experiment.Metric.CSAT
    highs = [float(r.get("ciHigh") or r.get("value") or 0) for r in rows.values()]
    scale_max = 5.0 if is_csat else min(1.0, max([0.05, *highs]) * 1.15)
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = CHART_WIDTH / max(1, len(rows))

    def y_of(value: float) -> float:
        return CHART_TOP + plot * (1 - min(value, scale_max) / scale_max)

    bars = []
    for index, (key, row) in enumerate(sorted(rows.items())):
        value = float(row.get("value") or 0)
        low, high = float(row.get("ciLow") or value), float(row.get("ciHigh") or value)
        shown = f"{value:.2f}" if is_csat else f"{value:.1%}"
        bars.append(
            Bar(
                key=key,
                x=index * slot + slot * 0.2,
                width=slot * 0.6,
                y=y_of(value),
                height=CHART_TOP + plot - y_of(value),
                whisker_top=y_of(high),
                whisker_bottom=y_of(low),
                label=f"{key}: {shown}",
                detail=f"{row.get('successes', 0)}/{row.get('trials', 0)}, "
                f"{row.get('exposures', 0)} exposed",
            )
        )
    return bars


def results_table(result: ExperimentResult, metric: str) -> list[dict[str, str]]:
    """The variants' figures as the results page prints them."""
    is_csat = metric == Experiment.Metric.CSAT

    def shown(value: Any) -> str:
        if value is None:
            return "-"
        return f"{float(value):.2f}" if is_csat else f"{float(value):.1%}"

    return [
        {
            "key": key,
            "exposures": str(row.get("exposures", 0)),
            "measured": str(row.get("trials", 0))
            if is_csat
            else f"{row.get('successes', 0)} / {row.get('trials', 0)}",
            "value": shown(row.get("value")),
            "interval": f"{shown(row.get('ciLow'))} to {shown(row.get('ciHigh'))}",
        }
        for key, row in sorted((result.variants or {}).items())
    ]


@admin.register(Experiment)
class ExperimentAdmin(WorkspaceScopedAdmin):
    form = ExperimentForm
    inlines = [VariantInline]
    list_display = ["name", "agent", "key", "status", "primary_metric", "winner", "results"]
    list_filter = ["status", "primary_metric", "workspace"]
    search_fields = ["name", "key", "agent__name"]
    actions = ["start", "stop", "recompute", "promote"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = ["status", "started_at", "ended_at", "winner"]
        if obj is not None and obj.status != Experiment.Status.DRAFT:
            fixed += ["agent", "key", "auto_promote"]
        return fixed

    def save_model(self, request: HttpRequest, obj: Experiment, form: Any, change: bool) -> None:
        """Nothing yet: `save_related` writes through the services, variants included."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        deletable = obj is None or experiment_deletable(obj)
        return deletable and super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Experiment) -> None:
        experiment_delete(experiment=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        for experiment in queryset:  # each refused or audited as from its own page
            experiment_delete(experiment=experiment, by=request.user)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        edited = [f for f in formsets if f.model is ExperimentVariant and f.has_changed()]
        variants = formset_variants(edited[0]) if edited else None
        fields = form.settings()
        if change:
            saved = experiment_update(experiment=form.instance, fields=fields, variants=variants)
        else:
            agent, key, name = fields.pop("agent"), fields.pop("key"), fields.pop("name", "")
            saved = experiment_create(
                agent=agent, key=key, name=name, variants=variants or [], **fields
            )
        # The admin's messages, log entry and redirect read the object it passed in.
        form.instance.pk, form.instance._state.adding = saved.pk, False

    @admin.display(description="Results")
    def results(self, obj: Experiment) -> str:
        url = reverse("admin:experiments_experiment_results", args=[obj.pk])
        return format_html('<a href="{}">Chart and verdict</a>', url)

    def _each(self, request: HttpRequest, rows: QuerySet[Experiment], verb: str, act: Any) -> None:
        for experiment in rows:
            if not self.has_change_permission(request, experiment):
                messages.error(request, f"You may not {verb} {experiment}.")
                continue
            try:
                act(experiment)
                messages.success(request, f"{experiment}: done ({verb}).")
            except ApiError as exc:
                messages.error(request, f"{experiment}: {exc.message}")

    @admin.action(description="Start the selected drafts")
    def start(self, request: HttpRequest, rows: QuerySet[Experiment]) -> None:
        self._each(
            request, rows, "start", lambda e: experiment_start(experiment=e, by=request.user)
        )

    @admin.action(description="Stop the selected experiments")
    def stop(self, request: HttpRequest, rows: QuerySet[Experiment]) -> None:
        self._each(request, rows, "stop", lambda e: experiment_stop(experiment=e, by=request.user))

    @admin.action(description="Recompute results now")
    def recompute(self, request: HttpRequest, rows: QuerySet[Experiment]) -> None:
        self._each(
            request, rows, "recompute", lambda e: experiment_results_compute(experiment_id=e.pk)
        )

    @admin.action(description="Promote the winner into the widget config")
    def promote(self, request: HttpRequest, rows: QuerySet[Experiment]) -> None:
        self._each(
            request, rows, "promote", lambda e: experiment_promote(experiment=e, by=request.user)
        )

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:object_id>/results/",
                self.admin_site.admin_view(self.results_view),
                name="experiments_experiment_results",
            )
        ]
        return custom + super().get_urls()

    def results_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        experiment = get_object_or_404(self.get_queryset(request), pk=object_id)
        if request.method == "POST":
            if not self.has_change_permission(request, experiment):
                messages.error(request, "Only the workspace's owners and admins may do this.")
            elif request.POST.get("action") == "recompute":
                experiment_results_compute(experiment_id=experiment.pk)
            elif request.POST.get("action") == "promote":
                self._each(
                    request,
                    self.get_queryset(request).filter(pk=experiment.pk),
                    "promote",
                    lambda e: experiment_promote(experiment=e, by=request.user),
                )
            return HttpResponseRedirect(request.path)
        result = experiment_latest_result(experiment)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Results of {experiment.name}",
            "experiment": experiment,
            "result": result,
            "rows": results_table(result, experiment.primary_metric) if result else [],
            "bars": results_chart(result, experiment.primary_metric) if result else [],
            "chart": {
                "width": CHART_WIDTH,
                "height": CHART_HEIGHT,
                "base": CHART_HEIGHT - CHART_BOTTOM,
            },
            "is_csat": experiment.primary_metric == Experiment.Metric.CSAT,
            "may_change": self.has_change_permission(request, experiment),
        }
        return TemplateResponse(request, "admin/experiments/experiment_results.html", context)
