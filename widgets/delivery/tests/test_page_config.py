"""GET /api/v2/widget/config/<agentId>: what a page view costs before its visitor shows intent.

A visitor's browser (any site, any visitor) reads the agent's published look and trigger;
nothing private, the same bytes for all, cacheable by browsers and a CDN, current after
a publish at once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from conftest import SITE_ORIGIN
from customers.sessions import session_token_issue
from widgets.config.launcher_paint import launcher_paint
from widgets.config.triggers import trigger_plan
from widgets.models import InstallationRefusal, WidgetConfig
from widgets.publishing.releases import widget_publish

pytestmark = pytest.mark.django_db

CASES = Path(__file__).parents[2] / "tests"  # shared with frontend/test
LAUNCHER_CASES = json.loads((CASES / "launcher_cases.json").read_text())
TRIGGER_CASES = json.loads((CASES / "trigger_cases.json").read_text())


def url(agent: Any) -> str:
    return f"/api/v2/widget/config/{agent.public_id}"


def read(client: Client, agent: Any, **headers: str) -> Any:
    return client.get(url(agent), headers={"origin": SITE_ORIGIN, **headers})


def edit_draft(agent: Any, **fields: Any) -> None:
    config = WidgetConfig.objects.get(agent=agent)
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()


def test_a_visitor_reads_the_published_look_and_trigger_and_nothing_private(
    client: Client, agent: Any, owner: Any
) -> None:
    edit_draft(
        agent,
        theme={"primaryColor": "#0f766e", "launcherIcon": "bolt"},
        position="bottom-left",
        custom_css=".nm { color: red }",
        triggers={"delayMs": 5000, "urlInclude": ["/pricing*"]},
        rate_limits={"session_per_ip": 500},
    )
    widget_publish(agent=agent, by=owner)
    response = read(client, agent)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"config", "identityRequired", "launcher", "trigger"}
    assert body["config"]["agentId"] == agent.public_id
    assert body["config"]["greeting"] == "Hello there!"
    assert "customCss" not in body["config"]
    text = response.content.decode()
    for private in ("shop.example.com", "session_per_ip", "rate", "allowed", agent.workspace.slug):
        assert private not in text
    assert body["identityRequired"] is False
    assert body["launcher"]["left"] is True
    assert body["launcher"]["vars"]["--ca-primary"] == "#0f766e"
    assert body["launcher"]["icon"] == "M7 2v11h3v9l7-12h-4l4-8z"
    assert body["trigger"]["delayMs"] == 5000
    assert re.search(body["trigger"]["page"], "https://shop.example.com/pricing/pro", re.I)


def test_it_is_the_same_public_answer_for_every_site_and_cacheable(
    client: Client, agent: Any
) -> None:
    token = session_token_issue(
        agent_id=agent.public_id, visitor_id="v_1", origin=SITE_ORIGIN
    ).token
    answers = [
        read(client, agent),
        client.get(url(agent), headers={"origin": "https://elsewhere.example"}),
        # A bearer token means nothing here: no per-agent CORS verdict, no Vary: Origin.
        read(client, agent, authorization=f"Bearer {token}"),
        client.get(url(agent)),
    ]
    assert len({a.content for a in answers}) == 1
    for answer in answers:
        assert answer.status_code == 200
        assert answer["Access-Control-Allow-Origin"] == "*"
        assert answer["Cache-Control"] == "public, max-age=60, stale-while-revalidate=600"
        assert answer["ETag"].startswith('W/"')
        assert "origin" not in answer.get("Vary", "").lower()
        assert "Set-Cookie" not in answer


def test_a_browser_that_has_it_gets_a_304(client: Client, agent: Any) -> None:
    first = read(client, agent)
    again = read(client, agent, if_none_match=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["Cache-Control"] == first["Cache-Control"]
    assert read(client, agent, if_none_match='W/"other", ' + first["ETag"]).status_code == 304
    assert read(client, agent, if_none_match='W/"other"').status_code == 200


def test_a_publish_reaches_the_next_page_view_and_a_draft_does_not(
    client: Client, agent: Any, owner: Any
) -> None:
    widget_publish(agent=agent, by=owner)
    before = read(client, agent)
    edit_draft(agent, theme={"primaryColor": "#111111"})
    drafted = read(client, agent)
    assert drafted.content == before.content
    widget_publish(agent=agent, by=owner)
    published = read(client, agent)
    assert published["ETag"] != before["ETag"]
    assert published.json()["launcher"]["vars"]["--ca-primary"] == "#111111"
    assert read(client, agent, if_none_match=before["ETag"]).status_code == 200


def test_a_page_view_after_the_first_costs_no_query(
    client: Client, agent: Any, django_assert_num_queries: Any
) -> None:
    read(client, agent)
    with django_assert_num_queries(0):
        assert read(client, agent).status_code == 200


def test_an_agent_for_verified_customers_says_so(client: Client, agent: Any) -> None:
    agent.identity_required = True
    agent.save()
    assert read(client, agent).json()["identityRequired"] is True


def test_an_unknown_or_switched_off_agent_is_a_cacheable_404(client: Client, agent: Any) -> None:
    for agent_id in ("agt_nobody", "not an id!", "x" * 41):
        response = client.get(f"/api/v2/widget/config/{agent_id}", headers={"origin": SITE_ORIGIN})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "agent_not_found"
        assert response["Cache-Control"] == "public, max-age=60"
    agent.is_active = False
    agent.save()
    assert read(client, agent).status_code == 404


def test_a_site_that_is_not_allowed_is_noted_for_the_deploy_panel(
    client: Client, agent: Any
) -> None:
    response = client.get(url(agent), headers={"origin": "https://copycat.example"})
    assert response.status_code == 200
    refusal = InstallationRefusal.objects.get(agent=agent)
    assert (refusal.host, refusal.reason) == ("copycat.example", "origin_not_allowed")
    read(client, agent)  # an allowed site is no refusal
    assert InstallationRefusal.objects.count() == 1


@pytest.mark.parametrize("case", LAUNCHER_CASES, ids=lambda c: json.dumps(c["config"])[:60])
def test_the_launcher_is_painted_as_the_widget_paints_it(case: dict[str, Any]) -> None:
    # frontend/test/page-config.test.js holds theme.js to the same answers.
    assert launcher_paint(case["config"]) == case["launcher"]


@pytest.mark.parametrize("case", TRIGGER_CASES, ids=lambda c: json.dumps(c["triggers"])[:60])
def test_a_trigger_compiles_to_what_the_loader_runs(case: dict[str, Any]) -> None:
    # frontend/test/page-config.test.js runs the same patterns with JavaScript's RegExp.
    plan = trigger_plan(case["triggers"], consent_first=case["consentFirst"])
    assert plan == case["plan"]
    for page in case["pages"]:
        allowed = plan is not None and (
            "page" not in plan or re.search(plan["page"], page["url"], re.I) is not None
        )
        assert allowed == page["allowed"], page["url"]
