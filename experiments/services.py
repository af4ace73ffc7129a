"""Writing experiments: create, change, start, stop, and promote a winner into the widget.

Promotion writes the winner into the draft config (what staff edit) and publishes it
(widgets.publishing.releases): the live release plus the winner's overrides and nothing else of the
draft, which may hold unfinished work.

The rules are written once here and used by the REST API, the admin and the beat task:
variants and the key change only while the experiment is a draft (a change mid-run would
move visitors between variants and spoil the results); an agent runs one experiment at a
time (so its visitors' events carry one variant label); promoting copies the winner's
overrides into the agent's published config and completes the experiment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import Agent
from core.errors import InvalidRequest
from experiments.models import Experiment, ExperimentVariant
from experiments.results import experiment_latest_result
from experiments.stats import confidence_validate
from security.audit import audit_record
from widgets.delivery.variants import overrides_validate
from widgets.models import WidgetConfig
from widgets.publishing.releases import widget_release_promote

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_VARIANTS = 10
MAX_WEIGHT = 1000
MIN_SAMPLES = 10
Status = Experiment.Status
# What may change in each status (variants: see VARIANTS_EDITABLE).
EDITABLE = {
    Status.DRAFT: {
        "name",
        "primary_metric",
        "min_samples_per_variant",
        "confidence",
        "auto_promote",
    },
    Status.RUNNING: {
        "name",
        "primary_metric",
        "min_samples_per_variant",
        "confidence",
        "auto_promote",
    },
    Status.STOPPED: {"name", "primary_metric", "min_samples_per_variant", "confidence"},
    Status.COMPLETED: {"name"},
}


# Where a draft runs and the key its visitors are assigned by: fixed once it starts.
PLACEMENT = {"agent", "key"}


class ExperimentInvalid(InvalidRequest):
    code = "invalid_experiment"


@dataclass(frozen=True)
class VariantIn:
    key: str
    weight: int
    overrides: dict[str, Any]


def experiment_key_validate(key: Any) -> str:
    if not isinstance(key, str) or not KEY.match(key):
        raise ExperimentInvalid(
            "key must be 1-40 lower-case letters, digits, '-' or '_', starting with one of "
            "the first two."
        )
    return key


def variants_validate(variants: list[VariantIn]) -> list[VariantIn]:
    """Two to ten variants with distinct keys, positive weights and valid overrides."""
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise ExperimentInvalid(f"An experiment has 2-{MAX_VARIANTS} variants.")
    keys = [experiment_key_validate(v.key) for v in variants]
    if len(set(keys)) != len(keys):
        raise ExperimentInvalid("Variant keys must differ.")
    checked = []
    for variant in variants:
        weight = variant.weight
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= MAX_WEIGHT:
            raise ExperimentInvalid(f"Variant {variant.key}: weight must be 1-{MAX_WEIGHT}.")
        try:
            overrides = overrides_validate(variant.overrides)
        except ValueError as exc:
            raise ExperimentInvalid(f"Variant {variant.key}: {exc}") from None
        checked.append(VariantIn(variant.key, weight, overrides))
    return checked


def experiment_settings_validate(fields: dict[str, Any]) -> None:
    """Check the settings an experiment is created or changed with (the admin form asks
    too, so it shows the problem beside the field)."""
    if "primary_metric" in fields and fields["primary_metric"] not in Experiment.Metric.values:
        raise ExperimentInvalid(f"primaryMetric must be one of {', '.join(Experiment.Metric)}.")
    if fields.get("confidence") is not None:
        try:
            confidence_validate(fields["confidence"])
        except ValueError as exc:
            raise ExperimentInvalid(str(exc)) from None
    samples = fields.get("min_samples_per_variant")
    if samples is not None and not MIN_SAMPLES <= int(samples) <= 10_000_000:
        raise ExperimentInvalid(f"minSamplesPerVariant must be at least {MIN_SAMPLES}.")


def _variants_replace(experiment: Experiment, variants: list[VariantIn]) -> None:
    experiment.variants.all().delete()
    ExperimentVariant.objects.bulk_create(
        ExperimentVariant(experiment=experiment, key=v.key, weight=v.weight, overrides=v.overrides)
        for v in variants
    )


@transaction.atomic
def experiment_create(
    *, agent: Agent, key: str, name: str, variants: list[VariantIn], **fields: Any
) -> Experiment:
    """A draft experiment on `agent` (fields: primary_metric, min_samples_per_variant,
    confidence, auto_promote)."""
    unknown = set(fields) - EDITABLE[Status.DRAFT]
    if unknown:
        raise ExperimentInvalid(f"Unknown fields: {', '.join(sorted(unknown))}.")
    experiment_settings_validate(fields)
    checked = variants_validate(variants)
    try:
        with transaction.atomic():
            experiment = Experiment.objects.create(
                workspace_id=agent.workspace_id,
                agent=agent,
                key=experiment_key_validate(key),
                name=(name or key)[:120],
                **fields,
            )
    except IntegrityError:
        raise ExperimentInvalid(f"This agent already has an experiment {key!r}.") from None
    _variants_replace(experiment, checked)
    return experiment


@transaction.atomic
def experiment_update(
    *, experiment: Experiment, fields: dict[str, Any], variants: list[VariantIn] | None = None
) -> Experiment:
    """Change what the experiment's status allows; refuse the rest, naming it."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    draft = experiment.status == Status.DRAFT
    allowed = EDITABLE[Status(experiment.status)] | (PLACEMENT if draft else set())
    refused = set(fields) - allowed
    if refused or (variants is not None and not draft):
        what = ", ".join(sorted(refused | ({"variants"} if variants is not None else set())))
        raise ExperimentInvalid(f"A {experiment.status} experiment cannot change {what}.")
    experiment_settings_validate(fields)
    if "key" in fields:
        experiment_key_validate(fields["key"])
    if "agent" in fields:
        experiment.workspace_id = fields["agent"].workspace_id  # always the agent's
    for name, value in fields.items():
        setattr(experiment, name, value)
    try:
        with transaction.atomic():
            experiment.save()
    except IntegrityError:
        raise ExperimentInvalid(
            f"This agent already has an experiment {experiment.key!r}."
        ) from None
    if variants is not None:
        _variants_replace(experiment, variants_validate(variants))
    return experiment


def experiment_deletable(experiment: Experiment) -> bool:
    """A running experiment is stopped before it is deleted (its visitors are assigned)."""
    return experiment.status != Status.RUNNING


def experiment_delete(*, experiment: Experiment, by: Any = None) -> None:
    """Delete an experiment that is not running, with its variants and results; audited."""
    if not experiment_deletable(experiment):
        raise ExperimentInvalid("Stop a running experiment before deleting it.")
    _audit(experiment, "experiment.deleted", by)
    experiment.delete()


@transaction.atomic
def experiment_start(*, experiment: Experiment, by: Any = None) -> Experiment:
    """Draft → running. Refused while another experiment of the agent runs."""
    Agent.objects.select_for_update().filter(pk=experiment.agent_id).first()  # one at a time
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Status.DRAFT:
        raise ExperimentInvalid(f"Only a draft can start; this one is {experiment.status}.")
    variants_validate(
        [VariantIn(v.key, v.weight, v.overrides) for v in experiment.variants.order_by("key")]
    )
    running = Experiment.objects.filter(agent_id=experiment.agent_id, status=Status.RUNNING)
    if running.exists():
        raise ExperimentInvalid(
            f"Experiment {running.first()} is already running on this agent; stop it first."
        )
    experiment.status, experiment.started_at = Status.RUNNING, timezone.now()
    experiment.save(update_fields=["status", "started_at"])
    _audit(experiment, "experiment.started", by)
    return experiment


@transaction.atomic
def experiment_stop(*, experiment: Experiment, by: Any = None) -> Experiment:
    """Running → stopped: visitors see the published config again; results stay."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != Status.RUNNING:
        raise ExperimentInvalid(
            f"Only a running experiment can stop; this one is {experiment.status}."
        )
    experiment.status, experiment.ended_at = Status.STOPPED, timezone.now()
    experiment.save(update_fields=["status", "ended_at"])
    _audit(experiment, "experiment.stopped", by)
    return experiment


@transaction.atomic
def experiment_promote(
    *, experiment: Experiment, variant_key: str | None = None, by: Any = None
) -> Experiment:
    """Write a variant's overrides (by default the computed winner's) into the agent's
    greeting and widget config, and complete the experiment. Promoting a completed
    experiment again changes nothing."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status == Status.COMPLETED:
        return experiment
    if experiment.status == Status.DRAFT:
        raise ExperimentInvalid("A draft has no results to promote.")
    if variant_key is None:
        result = experiment_latest_result(experiment)
        variant_key = result.winner if result else ""
    variant = experiment.variants.filter(key=variant_key or "").first()
    if variant is None:
        raise ExperimentInvalid("There is no winner to promote yet.")
    overrides = overrides_validate(variant.overrides)
    changes = _config_apply(experiment.agent_id, overrides)  # the draft
    # …and live: a new release of what visitors see now, with only the winner's changes.
    release = widget_release_promote(
        agent_id=experiment.agent_id,
        overrides=overrides,
        by=by,
        note=f"Experiment {experiment.key}: {variant.key} promoted",
    )
    if release is not None:
        changes["release"] = release.version
    experiment.status, experiment.winner = Status.COMPLETED, variant.key
    experiment.ended_at = experiment.ended_at or timezone.now()
    experiment.save(update_fields=["status", "winner", "ended_at"])
    _audit(experiment, "experiment.promoted", by, {"variant": variant.key, **changes})
    return experiment


def _config_apply(agent_id: int, overrides: dict[str, Any]) -> dict[str, Any]:
    agent = Agent.objects.select_for_update().get(pk=agent_id)
    config, _ = WidgetConfig.objects.select_for_update().get_or_create(agent=agent)
    changes: dict[str, Any] = {}
    if "greeting" in overrides:
        changes["greeting"] = {"from": agent.greeting, "to": overrides["greeting"]}
        agent.greeting = overrides["greeting"]
        agent.save(update_fields=["greeting"])
    config_fields = {
        "position": ("position", lambda old, new: new),
        "starterPrompts": ("starter_prompts", lambda old, new: new),
        "theme": ("theme", lambda old, new: {**(old or {}), **new}),
        "triggers": ("triggers", lambda old, new: {**(old or {}), **new}),
    }
    updated = []
    for key, (field, merge) in config_fields.items():
        if key in overrides:
            before = getattr(config, field)
            after = merge(before, overrides[key])
            changes[field] = {"from": before, "to": after}
            setattr(config, field, after)
            updated.append(field)
    if updated:
        config.save(update_fields=[*updated, "updated_at"])
    return changes


def _audit(
    experiment: Experiment, action: str, by: Any, changes: dict[str, Any] | None = None
) -> None:
    audit_record(
        action=action,
        target=f"experiment {experiment.key} ({experiment.pk})",
        actor=by,
        workspace_id=experiment.workspace_id,
        changes=changes,
    )


def experiments_promote_winners() -> int:
    """Promote every auto-promote experiment whose latest results name a winner."""
    promoted = 0
    candidates = Experiment.objects.filter(status=Status.RUNNING, auto_promote=True)
    for experiment in candidates:
        result = experiment_latest_result(experiment)
        if result is None or not result.winner:
            continue
        experiment_promote(experiment=experiment, variant_key=result.winner)
        promoted += 1
    return promoted
