"""A/B experiments: what the numbers say (who sees which variant: experiments.assignment).

Results are per visitor, from the raw events since the experiment started: a visitor is
exposed to the variant the server stamped on their `exposure` event, and converts when
their visitor id shows the metric's event (open, conversation started, resolved) in the
same period. CSAT compares the scores those visitors gave.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.json import KT

from analytics.models import WidgetEvent
from experiments.assignment import variant_label
from experiments.models import Experiment, ExperimentResult
from experiments.stats import (
    Estimate,
    mean_interval,
    two_proportion_p_value,
    welch_p_value,
    wilson_interval,
)

Metric = Experiment.Metric
# The event that makes an exposed visitor count as converted, per rate metric.
CONVERSION_EVENTS = {
    Metric.OPEN_RATE: "open",
    Metric.CONVERSATION_RATE: "conversation_started",
    Metric.RESOLUTION_RATE: "resolved",
}


@dataclass
class VariantOutcome:
    key: str
    exposures: int = 0
    trials: int = 0  # the metric's denominator (visitors or conversations)
    successes: int = 0
    scores: list[float] = field(default_factory=list)  # CSAT only


def _period(experiment: Experiment) -> QuerySet[WidgetEvent]:
    events = WidgetEvent.objects.filter(agent_id=experiment.agent.public_id)
    if experiment.started_at:
        events = events.filter(occurred_at__gte=experiment.started_at)
    if experiment.ended_at:
        events = events.filter(occurred_at__lt=experiment.ended_at)
    return events.exclude(session_id="")


def _visitors(events: QuerySet[WidgetEvent]) -> QuerySet[WidgetEvent, Any]:
    return events.values("session_id").distinct()


def variant_outcome(experiment: Experiment, variant_key: str) -> VariantOutcome:
    """The counts behind one variant's figure for the experiment's primary metric."""
    events = _period(experiment)
    label = variant_label(experiment.key, variant_key)
    exposed = _visitors(events.filter(event="exposure", variant=label))
    outcome = VariantOutcome(variant_key, exposures=exposed.count())
    metric = experiment.primary_metric
    if metric == Metric.CSAT:
        scores = (
            events.filter(event="csat", session_id__in=exposed)
            .annotate(score=KT("metadata__score"))
            .values_list("score", flat=True)
        )
        outcome.scores = [float(s) for s in scores if s and str(s).isdigit() and 1 <= int(s) <= 5]
        outcome.trials = len(outcome.scores)
        return outcome
    population = exposed
    if metric == Metric.RESOLUTION_RATE:
        population = _visitors(events.filter(event="conversation_started", session_id__in=exposed))
    outcome.trials = population.count()
    converted = events.filter(event=CONVERSION_EVENTS[Metric(metric)], session_id__in=population)
    outcome.successes = _visitors(converted).count()
    return outcome


def _estimate(outcome: VariantOutcome, metric: str, confidence: float) -> Estimate:
    if metric == Metric.CSAT:
        return mean_interval(outcome.scores, confidence=confidence)
    return wilson_interval(outcome.successes, outcome.trials, confidence=confidence)


def _p_value(a: VariantOutcome, b: VariantOutcome, metric: str) -> float:
    if metric == Metric.CSAT:
        return welch_p_value(a.scores, b.scores)
    return two_proportion_p_value(a.successes, a.trials, b.successes, b.trials)


def _variant_row(outcome: VariantOutcome, estimate: Estimate) -> dict[str, Any]:
    return {
        "exposures": outcome.exposures,
        "trials": outcome.trials,
        "successes": outcome.successes,
        "value": estimate.value,
        "ciLow": estimate.low,
        "ciHigh": estimate.high,
    }


def _shown(value: float | None, metric: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" if metric == Metric.CSAT else f"{value:.1%}"


@dataclass(frozen=True)
class Verdict:
    text: str
    winner: str = ""
    p_value: float | None = None


def experiment_verdict(
    experiment: Experiment, outcomes: list[VariantOutcome], estimates: dict[str, Estimate]
) -> Verdict:
    """Winner only when every variant has its minimum exposures and the best beats the
    runner-up at the experiment's confidence, Bonferroni-corrected for the comparisons."""
    if len(outcomes) < 2:
        return Verdict("An experiment needs at least two variants.")
    minimum = experiment.min_samples_per_variant
    smallest = min(outcomes, key=lambda o: o.exposures)
    if smallest.exposures < minimum:
        return Verdict(
            f"Not enough data yet: each variant needs {minimum} exposures "
            f"({smallest.key} has {smallest.exposures})."
        )
    metric = experiment.primary_metric

    def rank(outcome: VariantOutcome) -> float:
        value = estimates[outcome.key].value
        return -math.inf if value is None else value

    ranked = sorted(outcomes, key=rank, reverse=True)
    best, runner_up = ranked[0], ranked[1]
    best_value, runner_value = estimates[best.key].value, estimates[runner_up.key].value
    if best_value is None or runner_value is None:
        return Verdict("Not enough data yet: a variant has nothing to measure.")
    p_value = _p_value(best, runner_up, metric)
    alpha = (1.0 - experiment.confidence) / (len(outcomes) - 1)
    if p_value < alpha and best_value > runner_value:
        return Verdict(
            f"{best.key} wins: {_shown(best_value, metric)} vs {_shown(runner_value, metric)} "
            f"for {runner_up.key} (p = {p_value:.2g}).",
            winner=best.key,
            p_value=p_value,
        )
    return Verdict(f"No significant difference yet (p = {p_value:.2g}).", p_value=p_value)


def experiment_results_compute(*, experiment_id: int) -> ExperimentResult:
    """Compute and store the experiment's current results and verdict."""
    experiment = Experiment.objects.select_related("agent").get(pk=experiment_id)
    keys = list(experiment.variants.order_by("key").values_list("key", flat=True))
    outcomes = [variant_outcome(experiment, key) for key in keys]
    metric = experiment.primary_metric
    estimates = {o.key: _estimate(o, metric, experiment.confidence) for o in outcomes}
    verdict = experiment_verdict(experiment, outcomes, estimates)
    return ExperimentResult.objects.create(
        experiment=experiment,
        variants={o.key: _variant_row(o, estimates[o.key]) for o in outcomes},
        p_value=verdict.p_value,
        verdict=verdict.text[:200],
        winner=verdict.winner,
    )


def experiments_results_compute() -> int:
    """Recompute every running experiment (the beat task); returns how many."""
    ids = list(
        Experiment.objects.filter(status=Experiment.Status.RUNNING).values_list("id", flat=True)
    )
    for experiment_id in ids:
        experiment_results_compute(experiment_id=experiment_id)
    return len(ids)


def experiment_latest_result(experiment: Experiment) -> ExperimentResult | None:
    return experiment.results.order_by("-computed_at", "-id").first()
