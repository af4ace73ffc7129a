"""The demo's analytics story end to end: simulated visitors through the real widget API of
a live platform, then the beat schedule run in-process gives the experiment a verdict and
fires the error-spike alert (issue 8's "done when", as `make run` shows it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from analytics.models import AlertEvent, WidgetEvent
from demo.experiments import demo_alert_seed, demo_experiment_seed
from demo.traffic import TrafficPlan, TrafficRefused, plan_check, traffic_run
from experiments.models import ExperimentResult
from widgets.models import WidgetConfig

pytestmark = pytest.mark.django_db(transaction=True)


def _plan(sites: Any, agent: Any, **changes: Any) -> TrafficPlan:
    values: dict[str, Any] = {
        "base_url": sites.platform_url,
        "origin": sites.demo_url.rstrip("/"),
        "agent_id": agent.public_id,
        "visitors": 160,
        "open_rates": {"control": 0.1, "friendly": 0.6},
        "errors": 12,
        "seed": 7,
        "max_seconds": 120,
    }
    values.update(changes)
    return TrafficPlan(**values)


def test_demo_traffic_gives_the_greeting_test_a_verdict_and_fires_the_alert(
    sites: Any, agent: Any
) -> None:
    # Every simulated visitor comes from 127.0.0.1, as the demo's real ones do.
    WidgetConfig.objects.filter(agent=agent).update(rate_limits={"session_per_ip": 1000})
    experiment = demo_experiment_seed(agent)
    rule = demo_alert_seed(agent)

    report = traffic_run(_plan(sites, agent))

    assert report.visitors == 160 and report.errors == 12
    assert set(report.by_variant) == {"greeting:control", "greeting:friendly"}
    stored = WidgetEvent.objects.filter(agent_id=agent.public_id)
    assert stored.filter(event="load").count() == 160
    assert stored.filter(event="exposure").count() == 160
    assert stored.filter(event="error").count() == 12
    # The server stamps each event with the variant it assigned, never the client's claim.
    assert (
        stored.filter(event="load", variant="greeting:friendly").count()
        == (report.by_variant["greeting:friendly"])
    )

    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        call_command("embedded_beat", "--once")

    result = ExperimentResult.objects.filter(experiment=experiment).first()
    assert result is not None
    exposures = {key: row["exposures"] for key, row in result.variants.items()}
    assert exposures == {
        "control": report.by_variant["greeting:control"],
        "friendly": report.by_variant["greeting:friendly"],
    }
    # 10% against 60% over ~80 visitors each: far beyond chance.
    assert result.winner == "friendly"
    assert result.p_value is not None and result.p_value < 0.001
    fired = AlertEvent.objects.get(rule=rule)
    assert fired.value >= 12 and fired.resolved_at is None


def test_demo_traffic_goes_to_this_machine_only_and_is_bounded(sites: Any, agent: Any) -> None:
    with pytest.raises(TrafficRefused, match="this machine only"):
        plan_check(_plan(sites, agent, base_url="https://example.com"))
    with pytest.raises(TrafficRefused, match="this machine only"):
        plan_check(_plan(sites, agent, origin="file:///etc"))
    with pytest.raises(TrafficRefused, match="At most"):
        plan_check(_plan(sites, agent, visitors=10_000))
    with pytest.raises(TrafficRefused, match="probabilities"):
        plan_check(_plan(sites, agent, open_rates={"friendly": 1.5}))


def test_embedded_beat_refuses_when_celery_has_a_broker() -> None:
    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=False),
        pytest.raises(CommandError, match="make worker"),
    ):
        call_command("embedded_beat", "--once")
