"""Who sees which variant of an A/B experiment.

Assignment is a pure function of the experiment key and the visitor id (no storage): the
same visitor gets the same variant on every page and every process, and different
experiments split visitors independently of each other. The widget reaches these through
the `VariantSource` registered in `experiments.apps` (widgets.delivery.variants).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from experiments.models import Experiment
from widgets.delivery.snapshots import widget_snapshot
from widgets.delivery.variants import (
    NO_ASSIGNMENT,
    Assignment,
    LiveExperiment,
    LiveVariant,
    VariantSource,
)


def variant_label(experiment_key: str, variant_key: str) -> str:
    """What `WidgetEvent.variant` and the roll-ups store for a visitor in this variant."""
    return f"{experiment_key}:{variant_key}"


def variant_assign(
    *, experiment_key: str, visitor_id: str, weights: Sequence[tuple[str, int]]
) -> str | None:
    """The variant key for this visitor: SHA-256 of experiment key and visitor id, mapped
    onto the cumulative weights (in the order given). None without a positive weight."""
    total = sum(weight for _, weight in weights if weight > 0)
    if total <= 0 or not visitor_id:
        return None
    digest = hashlib.sha256(f"{experiment_key}\x00{visitor_id}".encode()).digest()
    # 64 bits modulo a total of at most a few thousand: the bias is below 1e-15.
    point = int.from_bytes(digest[:8], "big") % total
    for key, weight in weights:
        if weight <= 0:
            continue
        if point < weight:
            return key
        point -= weight
    return None  # unreachable: the weights add up to `total`


def live_experiments_load(agent_pk: int) -> tuple[LiveExperiment, ...]:
    """The agent's running experiment (at most one) with its variants, from the database;
    what widgets.delivery.snapshots compiles into the agent's snapshot."""
    experiments = (
        Experiment.objects.filter(agent_id=agent_pk, status=Experiment.Status.RUNNING)
        .prefetch_related("variants")
        .order_by("started_at", "id")
    )
    return tuple(
        LiveExperiment(
            key=experiment.key,
            variants=tuple(
                LiveVariant(v.key, v.weight, dict(v.overrides or {}))
                for v in sorted(experiment.variants.all(), key=lambda v: v.key)
            ),
        )
        for experiment in experiments
    )


def assignment_for(experiments: Sequence[LiveExperiment], *, visitor_id: str) -> Assignment:
    """Which variant this visitor sees in each of `experiments` (sticky: a function of the
    visitor id alone, no query)."""
    variants: dict[str, str] = {}
    overrides: dict[str, Any] = {}
    labels: list[str] = []
    for experiment in experiments:
        chosen = variant_assign(
            experiment_key=experiment.key,
            visitor_id=visitor_id,
            weights=[(v.key, v.weight) for v in experiment.variants],
        )
        variant = next((v for v in experiment.variants if v.key == chosen), None)
        if variant is None:
            continue
        variants[experiment.key] = variant.key
        overrides = {**overrides, **variant.overrides}
        labels.append(variant_label(experiment.key, variant.key))
    if not variants:
        return NO_ASSIGNMENT
    # One running experiment per agent is the rule (experiments.services), so the
    # label names it; should a second slip in, events carry the first.
    return Assignment(variants=variants, overrides=overrides, label=labels[0])


def visitor_assignment(*, agent_public_id: str, visitor_id: str) -> Assignment:
    """Which variant this visitor sees in each running experiment of the agent, from the
    agent's compiled snapshot (widgets.delivery.snapshots: current in every process)."""

    snapshot = widget_snapshot(agent_public_id)
    if snapshot is None:
        return NO_ASSIGNMENT
    return assignment_for(snapshot.experiments, visitor_id=visitor_id)


def _assign(experiments: Sequence[LiveExperiment], visitor_id: str) -> Assignment:
    return assignment_for(experiments, visitor_id=visitor_id)


VARIANT_SOURCE = VariantSource(load=live_experiments_load, assign=_assign)
