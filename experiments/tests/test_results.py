"""Assignment (distribution, stickiness) and results (guard, verdict) of A/B experiments."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from scipy import stats

from analytics.models import WidgetEvent
from experiments.assignment import variant_assign, variant_label
from experiments.models import Experiment, ExperimentVariant
from experiments.results import experiment_results_compute

VISITORS = [f"vis_{n:06d}" for n in range(10_000)]


def assign(key: str, visitor: str, weights: list[tuple[str, int]]) -> str | None:
    return variant_assign(experiment_key=key, visitor_id=visitor, weights=weights)


class TestAssignment:
    def test_ten_thousand_visitors_follow_the_weights(self) -> None:
        weights = [("a", 50), ("b", 30), ("c", 20)]
        counts = Counter(assign("greeting", v, weights) for v in VISITORS)
        observed = [counts[k] for k, _ in weights]
        expected = [len(VISITORS) * w / 100 for _, w in weights]
        # Goodness of fit: a fair hash fails this one time in a thousand.
        assert stats.chisquare(observed, expected).pvalue > 0.001

    def test_an_even_split_is_even_within_bounds(self) -> None:
        counts = Counter(assign("position", v, [("a", 1), ("b", 1)]) for v in VISITORS)
        # 99.9 % two-sided binomial bounds around 5,000 of 10,000.
        low, high = stats.binom.ppf([0.0005, 0.9995], len(VISITORS), 0.5)
        assert low <= counts["a"] <= high

    def test_a_visitor_always_gets_the_same_variant(self) -> None:
        weights = [("a", 70), ("b", 30)]
        first = [assign("greeting", v, weights) for v in VISITORS[:500]]
        again = [assign("greeting", v, weights) for v in VISITORS[:500]]
        assert first == again

    def test_assignment_is_a_pure_function_of_key_and_visitor(self) -> None:
        # Pinned: a process restart, another worker or another host must agree.
        seen = [assign("greeting", f"vis_{i}", [("a", 50), ("b", 50)]) for i in range(8)]
        assert seen == ["a", "a", "b", "b", "a", "a", "b", "b"]

    def test_two_experiments_split_visitors_independently(self) -> None:
        weights = [("a", 1), ("b", 1)]
        pairs = Counter(
            (assign("greeting", v, weights), assign("delay", v, weights)) for v in VISITORS
        )
        table = [[pairs[("a", "a")], pairs[("a", "b")]], [pairs[("b", "a")], pairs[("b", "b")]]]
        assert stats.chi2_contingency(table).pvalue > 0.001

    def test_zero_weights_or_no_visitor_assign_nothing(self) -> None:
        assert assign("greeting", "vis_1", [("a", 0)]) is None
        assert assign("greeting", "", [("a", 1)]) is None


def make_experiment(agent: Any, **fields: Any) -> Experiment:
    experiment = Experiment.objects.create(
        workspace=agent.workspace,
        agent=agent,
        key="greeting",
        name="Greeting test",
        status=Experiment.Status.RUNNING,
        started_at=timezone.now() - timedelta(days=1),
        **fields,
    )
    for key in ("a", "b"):
        ExperimentVariant.objects.create(experiment=experiment, key=key, weight=50)
    return experiment


def traffic(agent: Any, variant: str, *, exposed: int, converted: int, event: str) -> None:
    """`exposed` visitors of `variant`, the first `converted` of whom did `event`."""
    label = variant_label("greeting", variant)
    rows = []
    for n in range(exposed):
        visitor = f"vis_{variant}_{n}"
        common = {"workspace": agent.workspace, "agent_id": agent.public_id, "session_id": visitor}
        rows.append(WidgetEvent(event="exposure", variant=label, **common))
        rows.append(WidgetEvent(event="load", variant=label, **common))
        if n < converted:
            rows.append(WidgetEvent(event=event, variant=label, **common))
    WidgetEvent.objects.bulk_create(rows, batch_size=2000)


@pytest.mark.django_db
class TestResults:
    def test_no_verdict_before_every_variant_has_its_minimum(self, agent) -> None:
        experiment = make_experiment(agent, min_samples_per_variant=200)
        traffic(agent, "a", exposed=400, converted=40, event="open")
        traffic(agent, "b", exposed=150, converted=90, event="open")  # huge lift, too few
        result = experiment_results_compute(experiment_id=experiment.pk)
        assert result.winner == ""
        assert result.p_value is None
        assert result.verdict.startswith("Not enough data yet")
        assert "b has 150" in result.verdict
        assert result.variants["b"]["exposures"] == 150

    def test_a_significant_lift_names_the_winner(self, agent) -> None:
        experiment = make_experiment(agent, min_samples_per_variant=1000)
        traffic(agent, "a", exposed=1000, converted=200, event="open")
        traffic(agent, "b", exposed=1000, converted=260, event="open")
        result = experiment_results_compute(experiment_id=experiment.pk)
        assert result.winner == "b"
        assert result.p_value == pytest.approx(0.001432, abs=5e-7)
        assert result.variants["a"]["value"] == pytest.approx(0.2)
        assert result.variants["a"]["ciLow"] == pytest.approx(0.1763771, abs=1e-7)
        assert result.verdict.startswith("b wins: 26.0% vs 20.0%")

    def test_a_small_difference_is_not_a_verdict(self, agent) -> None:
        experiment = make_experiment(agent, min_samples_per_variant=300)
        traffic(agent, "a", exposed=300, converted=60, event="open")
        traffic(agent, "b", exposed=300, converted=66, event="open")
        result = experiment_results_compute(experiment_id=experiment.pk)
        assert result.winner == ""
        assert result.verdict.startswith("No significant difference yet")

    def test_conversation_starts_count_once_per_visitor(self, agent) -> None:
        experiment = make_experiment(
            agent, min_samples_per_variant=10, primary_metric=Experiment.Metric.CONVERSATION_RATE
        )
        traffic(agent, "a", exposed=20, converted=5, event="conversation_started")
        traffic(agent, "b", exposed=20, converted=5, event="conversation_started")
        traffic(agent, "b", exposed=3, converted=3, event="conversation_started")  # again
        result = experiment_results_compute(experiment_id=experiment.pk)
        assert result.variants["a"] == pytest.approx(
            {**result.variants["a"], "exposures": 20, "trials": 20, "successes": 5}
        )
        assert result.variants["b"]["successes"] == 5  # the same five visitors

    def test_csat_compares_the_scores_of_exposed_visitors(self, agent) -> None:
        experiment = make_experiment(
            agent, min_samples_per_variant=10, primary_metric=Experiment.Metric.CSAT
        )
        traffic(agent, "a", exposed=10, converted=0, event="open")
        traffic(agent, "b", exposed=10, converted=0, event="open")
        for variant, scores in {"a": [2, 3, 3, 4, 2], "b": [4, 5, 3, 4, 5]}.items():
            for n, score in enumerate(scores):
                WidgetEvent.objects.create(
                    workspace=agent.workspace,
                    agent_id=agent.public_id,
                    session_id=f"vis_{variant}_{n}",
                    event="csat",
                    metadata={"score": score},
                )
        result = experiment_results_compute(experiment_id=experiment.pk)
        assert result.variants["b"]["value"] == pytest.approx(4.2)
        assert result.variants["b"]["trials"] == 5
        assert result.p_value == pytest.approx(0.02945, abs=5e-6)  # Welch, as R's t.test
        assert result.winner == "b"

    def test_events_of_other_agents_and_before_the_start_do_not_count(
        self, agent, other_agent
    ) -> None:
        experiment = make_experiment(agent, min_samples_per_variant=10)
        traffic(agent, "a", exposed=10, converted=1, event="open")
        WidgetEvent.objects.create(
            workspace=other_agent.workspace,
            agent_id=other_agent.public_id,
            session_id="vis_x",
            event="exposure",
            variant=variant_label("greeting", "a"),
        )
        WidgetEvent.objects.create(
            workspace=agent.workspace,
            agent_id=agent.public_id,
            session_id="vis_early",
            event="exposure",
            variant=variant_label("greeting", "a"),
            occurred_at=timezone.now() - timedelta(days=3),
        )
        result = experiment_results_compute(experiment_id=experiment.pk)
        assert result.variants["a"]["exposures"] == 10
