"""A/B experiments on the widget: what visitors see, what their events carry, promotion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from analytics.models import WidgetEvent
from conftest import SITE_ORIGIN
from customers.visitors import visitor_secret_for
from experiments.assignment import variant_assign
from experiments.models import Experiment, ExperimentResult, ExperimentVariant
from experiments.services import (
    ExperimentInvalid,
    VariantIn,
    experiment_create,
    experiment_promote,
    experiment_start,
    experiment_stop,
)
from experiments.tasks import promote_experiment_winners
from security.models import AuditEntry
from widgets.delivery.variants import config_with_overrides, overrides_validate
from widgets.models import WidgetConfig
from widgets.selectors import widget_public_config

pytestmark = pytest.mark.django_db

BOLD = {
    "greeting": "Questions? Ask me anything!",
    "position": "bottom-left",
    "triggers": {"delayMs": 3000},
    "theme": {"primaryColor": "#0f766e"},
    "starterPrompts": ["Where is my order?"],
}


def greeting_test(
    agent: Any, *, start: bool = True, key: str = "greeting", **fields: Any
) -> Experiment:
    experiment = experiment_create(
        agent=agent,
        key=key,
        name="Greeting test",
        variants=[VariantIn("control", 50, {}), VariantIn("bold", 50, BOLD)],
        **fields,
    )
    return experiment_start(experiment=experiment) if start else experiment


def session(client: Client, agent: Any, visitor_id: str | None = None) -> dict[str, Any]:
    """A session, as the browser that holds `visitor_id` (and so its secret) starts one."""
    body: dict[str, Any] = {"agentId": agent.public_id}
    if visitor_id:
        body["visitorId"] = visitor_id
        body["visitorSecret"] = visitor_secret_for(
            agent_public_id=agent.public_id, visitor_id=visitor_id
        )
    response = client.post(
        "/api/v2/widget/session",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )
    assert response.status_code == 200, response.content
    return dict(response.json())


def visitor_in(variant: str) -> str:
    return next(
        f"vis_{n:024d}"
        for n in range(1000)
        if variant_assign(
            experiment_key="greeting",
            visitor_id=f"vis_{n:024d}",
            weights=[("bold", 50), ("control", 50)],
        )
        == variant
    )


class TestOverrides:
    def test_the_widget_fields_a_variant_may_change_are_accepted(self) -> None:
        assert overrides_validate(BOLD) == BOLD

    @pytest.mark.parametrize(
        ("overrides", "problem"),
        [
            ({"customCss": "body{}"}, "Not something a variant can change: customCss"),
            ({"allowedDomains": ["evil.test"]}, "Not something a variant can change"),
            ({"position": "top-left"}, "position must be one of"),
            ({"triggers": {"urlInclude": ["/x"]}}, "triggers may change only delayMs"),
            ({"triggers": {"delayMs": -5}}, "delayMs must be a whole number"),
            ({"theme": {"primaryColor": "red; background:url(x)"}}, "must be a hex colour"),
            ({"theme": {"fontFamily": "Comic Sans"}}, "theme may change only the colours"),
            ({"starterPrompts": ["a", "b", "c", "d", "e"]}, "starterPrompts must be up to 4"),
            ({"greeting": ""}, "greeting must be text"),
        ],
    )
    def test_anything_else_is_refused_with_a_reason(self, overrides: Any, problem: str) -> None:
        with pytest.raises(ValueError, match=problem):
            overrides_validate(overrides)

    def test_overridable_fields_are_fields_of_the_public_config(self, agent) -> None:
        config = widget_public_config(agent)
        merged = config_with_overrides(config, BOLD)
        assert set(merged) == set(config)
        assert merged["theme"] == {**config["theme"], "primaryColor": "#0f766e"}
        assert merged["triggers"] == {**config["triggers"], "delayMs": 3000}
        assert config["greeting"] == "Hello there!"  # the input is left alone


class TestSession:
    def test_a_visitor_gets_their_variant_and_its_config(self, client: Client, agent) -> None:
        greeting_test(agent)
        bold = session(client, agent, visitor_in("bold"))
        assert bold["variants"] == {"greeting": "bold"}
        assert bold["config"]["greeting"] == BOLD["greeting"]
        assert bold["config"]["position"] == "bottom-left"
        assert bold["config"]["triggers"]["delayMs"] == 3000
        assert bold["config"]["theme"]["primaryColor"] == "#0f766e"
        assert bold["config"]["starterPrompts"] == ["Where is my order?"]
        control = session(client, agent, visitor_in("control"))
        assert control["variants"] == {"greeting": "control"}
        assert control["config"]["greeting"] == "Hello there!"
        assert control["config"]["position"] == "bottom-right"

    def test_the_variant_is_sticky_across_sessions(self, client: Client, agent) -> None:
        greeting_test(agent)
        first = session(client, agent)
        again = session(client, agent, first["visitorId"])
        assert again["visitorId"] == first["visitorId"]
        assert again["variants"] == first["variants"] != {}

    def test_no_running_experiment_means_no_variants(self, client: Client, agent) -> None:
        experiment = greeting_test(agent)
        experiment_stop(experiment=experiment)
        body = session(client, agent, visitor_in("bold"))
        assert body["variants"] == {}
        assert body["config"]["greeting"] == "Hello there!"

    def test_the_visitors_events_carry_the_server_assigned_variant(
        self, client: Client, agent
    ) -> None:
        greeting_test(agent)
        started = session(client, agent, visitor_in("bold"))
        response = client.post(
            "/api/v2/widget/events",
            data=json.dumps(
                {
                    "token": started["token"],
                    "events": [
                        # A client claiming another variant does not change what is stored.
                        {
                            "type": "exposure",
                            "metadata": {"experiment": "greeting", "variant": "x"},
                        },
                        {"type": "open"},
                    ],
                }
            ),
            content_type="text/plain",
            HTTP_ORIGIN=SITE_ORIGIN,
        )
        assert response.status_code == 202, response.content
        labels = set(WidgetEvent.objects.values_list("variant", flat=True))
        assert labels == {"greeting:bold"}


class TestLifecycle:
    def test_one_experiment_runs_per_agent(self, agent) -> None:
        greeting_test(agent)
        second = experiment_create(
            agent=agent,
            key="delay",
            name="Delay",
            variants=[VariantIn("a", 1, {}), VariantIn("b", 1, {"triggers": {"delayMs": 1}})],
        )
        with pytest.raises(ExperimentInvalid, match="already running"):
            experiment_start(experiment=second)

    def test_variants_need_distinct_keys_and_valid_overrides(self, agent) -> None:
        with pytest.raises(ExperimentInvalid, match="must differ"):
            experiment_create(agent=agent, key="x", name="x", variants=[VariantIn("a", 1, {})] * 2)
        with pytest.raises(ExperimentInvalid, match="Variant b: position"):
            experiment_create(
                agent=agent,
                key="x",
                name="x",
                variants=[VariantIn("a", 1, {}), VariantIn("b", 1, {"position": "middle"})],
            )


class TestPromotion:
    def win(self, experiment: Experiment, winner: str = "bold") -> None:
        ExperimentResult.objects.create(
            experiment=experiment, variants={}, p_value=0.001, verdict="bold wins", winner=winner
        )

    def test_auto_promote_writes_the_winner_into_the_widget(self, agent, client: Client) -> None:
        experiment = greeting_test(agent, auto_promote=True)
        self.win(experiment)
        assert promote_experiment_winners.apply().get() == 1
        agent.refresh_from_db()
        config = WidgetConfig.objects.get(agent=agent)
        assert agent.greeting == BOLD["greeting"]
        assert config.position == "bottom-left"
        assert config.triggers["delayMs"] == 3000
        assert config.theme["primaryColor"] == "#0f766e"
        assert config.theme["mode"] == "light"  # the rest of the theme stays
        assert config.starter_prompts == ["Where is my order?"]
        experiment.refresh_from_db()
        assert (experiment.status, experiment.winner) == ("completed", "bold")
        assert experiment.ended_at is not None
        assert AuditEntry.objects.filter(action="experiment.promoted").count() == 1
        # Everyone now sees the winner, and the experiment no longer assigns anyone.
        body = session(client, agent, visitor_in("control"))
        assert body["variants"] == {} and body["config"]["greeting"] == BOLD["greeting"]
        assert promote_experiment_winners.apply().get() == 0  # idempotent

    def test_without_auto_promote_or_a_winner_nothing_changes(self, agent) -> None:
        manual = greeting_test(agent)
        self.win(manual)
        assert promote_experiment_winners.apply().get() == 0
        experiment_stop(experiment=manual)
        undecided = greeting_test(agent, key="greeting-2", auto_promote=True)
        self.win(undecided, winner="")
        assert promote_experiment_winners.apply().get() == 0
        agent.refresh_from_db()
        assert agent.greeting == "Hello there!"

    def test_promotion_publishes_the_winner_but_not_unfinished_draft_edits(
        self, agent, client: Client
    ) -> None:
        from widgets.publishing.releases import widget_live_release, widget_publish

        widget_publish(agent=agent)
        experiment = greeting_test(agent)
        config = WidgetConfig.objects.get(agent=agent)
        config.custom_css = ".unfinished { color: red }"  # a draft edit, not yet published
        config.save()
        experiment_promote(experiment=experiment, variant_key="bold")
        live = widget_live_release(agent)
        assert live is not None and live.version == 2
        assert live.snapshot["greeting"] == BOLD["greeting"]
        assert live.snapshot["position"] == "bottom-left"
        assert live.snapshot["customCss"] == ""
        body = session(client, agent)
        assert body["config"]["greeting"] == BOLD["greeting"] and body["variants"] == {}

    def test_a_person_can_promote_a_chosen_variant(self, agent, owner) -> None:
        experiment = greeting_test(agent)
        experiment_promote(experiment=experiment, variant_key="bold", by=owner)
        agent.refresh_from_db()
        assert agent.greeting == BOLD["greeting"]


def test_variants_are_stored_sorted_and_weighted(agent) -> None:
    experiment = greeting_test(agent, start=False)
    rows = ExperimentVariant.objects.filter(experiment=experiment).order_by("key")
    assert [(v.key, v.weight) for v in rows] == [("bold", 50), ("control", 50)]
