"""The experiments REST API and admin pages, as an owner, a teammate and an outsider."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from experiments.models import Experiment, ExperimentResult

pytestmark = pytest.mark.django_db
BASE = "/api/v2/experiments/"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def create(user: Any, agent: Any, **extra: Any) -> Any:
    return api(user).post(
        BASE,
        {
            "agentId": agent.public_id,
            "key": "greeting",
            "name": "Greeting test",
            "primaryMetric": "open_rate",
            "minSamplesPerVariant": 100,
            "variants": [
                {"key": "control", "weight": 50},
                {"key": "bold", "weight": 50, "overrides": {"greeting": "Ask me anything!"}},
            ],
            **extra,
        },
        format="json",
    )


def test_an_owner_creates_starts_and_reads_results(owner: Any, agent: Any) -> None:
    created = create(owner, agent)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["agentId"] == agent.public_id
    assert body["minSamplesPerVariant"] == 100
    assert [v["key"] for v in body["variants"]] == ["bold", "control"]
    url = f"{BASE}{body['id']}"
    started = api(owner).patch(url, {"status": "running"}, format="json")
    assert started.status_code == 200, started.content
    assert started.json()["status"] == "running" and started.json()["startedAt"]
    empty = api(owner).get(f"{url}/results")
    assert empty.status_code == 200 and empty.json()["computedAt"] is None
    ExperimentResult.objects.create(
        experiment_id=body["id"],
        variants={"bold": {"exposures": 120}},
        p_value=0.2,
        verdict="No significant difference yet (p = 0.2).",
    )
    results = api(owner).get(f"{url}/results").json()
    assert results["pValue"] == 0.2 and results["variants"]["bold"]["exposures"] == 120


def test_variants_change_only_while_a_draft(owner: Any, agent: Any) -> None:
    experiment_id = create(owner, agent).json()["id"]
    url = f"{BASE}{experiment_id}"
    api(owner).patch(url, {"status": "running"}, format="json")
    refused = api(owner).patch(url, {"variants": [{"key": "a"}, {"key": "b"}]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_experiment"
    assert "cannot change variants" in refused.json()["error"]["message"]
    renamed = api(owner).patch(url, {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    assert api(owner).delete(url).status_code == 400  # stop it first
    assert api(owner).patch(url, {"status": "stopped"}, format="json").status_code == 200
    assert api(owner).delete(url).status_code == 204


def test_bad_overrides_answer_a_typed_error(owner: Any, agent: Any) -> None:
    response = create(
        owner,
        agent,
        variants=[{"key": "a"}, {"key": "b", "overrides": {"customCss": "*{display:none}"}}],
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_experiment"
    assert not Experiment.objects.exists()


def test_a_teammate_reads_but_does_not_change(owner: Any, teammate: Any, agent: Any) -> None:
    experiment_id = create(owner, agent).json()["id"]
    assert api(teammate).get(BASE).json()["count"] == 1
    assert api(teammate).get(f"{BASE}{experiment_id}").status_code == 200
    response = api(teammate).patch(f"{BASE}{experiment_id}", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert create(teammate, agent).status_code == 403


def test_an_outsider_sees_nothing_and_cannot_target_my_agent(
    owner: Any, outsider: Any, agent: Any
) -> None:
    experiment_id = create(owner, agent).json()["id"]
    assert api(outsider).get(BASE).json()["count"] == 0
    for path in ("", "/results"):
        response = api(outsider).get(f"{BASE}{experiment_id}{path}")
        assert response.status_code == 404, path
        assert "Greeting" not in response.content.decode()
    assert (
        api(outsider).post(f"{BASE}{experiment_id}/promote", {}, format="json").status_code == 404
    )
    assert create(outsider, agent).status_code == 404


def test_promote_through_the_api(owner: Any, agent: Any) -> None:
    experiment_id = create(owner, agent).json()["id"]
    url = f"{BASE}{experiment_id}"
    api(owner).patch(url, {"status": "running"}, format="json")
    nothing = api(owner).post(f"{url}/promote", {}, format="json")
    assert nothing.status_code == 400  # no winner computed yet
    chosen = api(owner).post(f"{url}/promote", {"variant": "bold"}, format="json")
    assert chosen.status_code == 200 and chosen.json()["status"] == "completed"
    agent.refresh_from_db()
    assert agent.greeting == "Ask me anything!"


def test_the_admin_results_page_shows_the_chart_and_verdict(owner: Any, agent: Any) -> None:
    experiment_id = create(owner, agent).json()["id"]
    ExperimentResult.objects.create(
        experiment_id=experiment_id,
        variants={
            "bold": {
                "exposures": 1000,
                "trials": 1000,
                "successes": 260,
                "value": 0.26,
                "ciLow": 0.234,
                "ciHigh": 0.288,
            },
            "control": {
                "exposures": 1000,
                "trials": 1000,
                "successes": 200,
                "value": 0.2,
                "ciLow": 0.176,
                "ciHigh": 0.226,
            },
        },
        p_value=0.0014,
        verdict="bold wins: 26.0% vs 20.0% for control (p = 0.0014).",
        winner="bold",
    )
    browser = Client()
    browser.force_login(owner)
    page = browser.get(f"/admin/experiments/experiment/{experiment_id}/results/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "bold wins: 26.0% vs 20.0%" in html
    assert html.count("<rect") == 2 and "<svg" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script (CSP 'self')
    assert "17.6% to 22.6%" in html
    assert "Promote bold into the widget" in html


def test_the_admin_results_page_of_another_workspace_is_not_found(
    outsider: Any, owner: Any, agent: Any
) -> None:
    experiment_id = create(owner, agent).json()["id"]
    browser = Client()
    browser.force_login(outsider)
    page = browser.get(f"/admin/experiments/experiment/{experiment_id}/results/")
    assert page.status_code == 404
