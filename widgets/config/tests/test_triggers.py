from __future__ import annotations

import json

import pytest
from django.test import Client

from conftest import SITE_ORIGIN
from widgets.config.triggers import triggers_validate


def test_a_full_trigger_config_is_accepted() -> None:
    config = {
        "delayMs": 8000,
        "scrollPercent": 50,
        "exitIntent": True,
        "urlInclude": ["/pricing*"],
        "urlExclude": ["/checkout*"],
        "minPageViews": 2,
        "action": "open",
    }
    assert triggers_validate(config) == config
    assert triggers_validate(None) == {}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"delay": 5}, "Unknown trigger settings: delay"),
        ({"delayMs": -1}, "delayMs must be a whole number"),
        ({"scrollPercent": 150}, "scrollPercent must be"),
        ({"exitIntent": "yes"}, "exitIntent must be true or false"),
        ({"urlInclude": "/pricing"}, "urlInclude must be a list"),
        ({"action": "popup"}, "action must be one of"),
        ([1, 2], "Enter a JSON object"),
    ],
)
def test_bad_trigger_configs_are_refused_with_a_reason(config, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        triggers_validate(config)


@pytest.mark.django_db
def test_the_widget_receives_its_triggers_with_the_session(client: Client, agent) -> None:
    config = agent.widget_config
    config.triggers = {"delayMs": 3000, "action": "teaser"}
    config.save()
    body = client.post(
        "/api/v2/widget/session",
        data=json.dumps({"agentId": agent.public_id}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    ).json()
    assert body["config"]["triggers"] == {"delayMs": 3000, "action": "teaser"}


@pytest.mark.django_db
def test_starter_prompts_travel_with_the_session(client: Client, agent) -> None:
    config = agent.widget_config
    config.starter_prompts = ["Where is my order?", "Returns"]
    config.save()
    body = client.post(
        "/api/v2/widget/session",
        data=json.dumps({"agentId": agent.public_id}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    ).json()
    assert body["config"]["starterPrompts"] == ["Where is my order?", "Returns"]
