"""The demo seed: what `make run` finds in place, and reseeding changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from analytics.models import AlertRule
from demo.seed import demo_seed
from experiments.models import Experiment
from widgets.models import WidgetRelease

pytestmark = pytest.mark.django_db


def test_the_demo_seed_publishes_v1_once(db: Any) -> None:
    seed = demo_seed()
    demo_seed()
    releases = WidgetRelease.objects.filter(agent=seed.agent)
    assert [(r.version, str(r.created_by)) for r in releases] == [(1, "admin")]


def test_the_demo_seeds_a_running_greeting_test_and_an_error_alert_once() -> None:
    first = demo_seed()
    demo_seed()
    experiment = Experiment.objects.get(agent=first.agent)
    assert (experiment.key, experiment.status) == ("greeting", "running")
    assert experiment.variants.count() == 2
    assert AlertRule.objects.get(workspace=first.agent.workspace).metric == "errors"
