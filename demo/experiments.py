"""The demo's A/B test and alert rule, so `make run` shows both working from the start."""

from __future__ import annotations

from agents.models import Agent
from analytics.models import AlertRule
from experiments.models import Experiment
from experiments.services import VariantIn, experiment_create, experiment_start

DEMO_EXPERIMENT_KEY = "greeting"
DEMO_ALERT_NAME = "Widget error spike"


def demo_experiment_seed(agent: Agent) -> Experiment:
    """A running greeting test on the demo agent (made once; reseeding leaves it alone)."""
    existing = Experiment.objects.filter(agent=agent, key=DEMO_EXPERIMENT_KEY).first()
    if existing is not None:
        return existing
    experiment = experiment_create(
        agent=agent,
        key=DEMO_EXPERIMENT_KEY,
        name="Friendlier greeting",
        variants=[
            VariantIn("control", 50, {}),
            VariantIn(
                "friendly",
                50,
                {"greeting": "Hey there! Questions about an order? I answer in seconds."},
            ),
        ],
        min_samples_per_variant=50,
    )
    if not Experiment.objects.filter(agent=agent, status=Experiment.Status.RUNNING).exists():
        experiment = experiment_start(experiment=experiment)
    return experiment


def demo_alert_seed(agent: Agent) -> AlertRule:
    """More than five widget errors in five minutes mails the demo's (console) inbox."""
    rule, _ = AlertRule.objects.get_or_create(
        workspace_id=agent.workspace_id,
        name=DEMO_ALERT_NAME,
        defaults={
            "agent_id": agent.public_id,
            "metric": "errors",
            "comparison": AlertRule.Comparison.ABOVE,
            "threshold": 5,
            "window_minutes": 5,
            "cooldown_minutes": 30,
            "emails": ["ops@acme.example"],
        },
    )
    return rule
