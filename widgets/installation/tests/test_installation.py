"""The installation check: refusals recorded where they happen (counted, bounded, scoped to
their agent), loads read from the widget's own events, and sentences a person can act on."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from agents.models import Agent
from analytics.models import MetricsBucket
from conftest import SITE_ORIGIN, make_agent
from customers.keys import identity_secret_rotate
from widgets.installation import refusals
from widgets.installation.refusals import (
    installation_host_allow,
    installation_origin_note,
    installation_refusal_record,
)
from widgets.installation.status import installation_status
from widgets.models import InstallationRefusal, WidgetConfig
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db

SESSION_URL = "/api/v2/widget/session"
REFUSED = "https://blog.acme.test"


def start(client: Client, agent: Agent, origin: str | None, **body: Any) -> Any:
    headers: dict[str, Any] = {"HTTP_ORIGIN": origin} if origin else {}
    return client.post(
        SESSION_URL,
        data=json.dumps({"agentId": agent.public_id, **body}),
        content_type="application/json",
        **headers,
    )


def load_from(client: Client, agent: Agent, origin: str) -> None:
    """What a widget does on a page: start a session, then send its `load` event."""
    token = start(client, agent, origin).json()["token"]
    response = client.post(
        "/api/v2/widget/events",
        data=json.dumps({"token": token, "events": [{"type": "load"}]}),
        content_type="text/plain",
        HTTP_ORIGIN=origin,
    )
    assert response.status_code == 202, response.content


def test_a_refused_origin_is_recorded_once_and_counted(client: Client, agent: Agent) -> None:
    for _ in range(3):
        assert start(client, agent, REFUSED).status_code == 403
    row = InstallationRefusal.objects.get(agent=agent)
    assert (row.origin, row.host, row.reason, row.count) == (
        REFUSED,
        "blog.acme.test",
        "origin_not_allowed",
        3,
    )
    [refusal] = installation_status(agent).refusals
    assert refusal.sentence == "origin not allowed: add blog.acme.test"
    assert refusal.allow_host == "blog.acme.test" and refusal.status == "refused"


def test_a_request_without_origin_records_nothing(client: Client, agent: Agent) -> None:
    assert start(client, agent, None).status_code == 403
    assert start(client, agent, "null").status_code == 403
    assert not InstallationRefusal.objects.exists()


def test_the_platforms_own_pages_are_not_a_site(agent: Agent, settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://chat.platform.test"
    recorded = installation_refusal_record(
        agent_pk=agent.pk, origin="https://chat.platform.test", reason="origin_not_allowed"
    )
    assert not recorded and not InstallationRefusal.objects.exists()


def test_refusals_are_capped_per_agent(
    agent: Agent, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(refusals, "MAX_REFUSALS_PER_AGENT", 3)
    with caplog.at_level(logging.WARNING, logger="customeragent.security"):
        for n in range(5):
            installation_refusal_record(
                agent_pk=agent.pk, origin=f"https://s{n}.test", reason="origin_not_allowed"
            )
    assert InstallationRefusal.objects.filter(agent=agent).count() == 3
    assert "installation check full" in caplog.text
    # A site already listed keeps being counted.
    installation_refusal_record(
        agent_pk=agent.pk, origin="https://s0.test", reason="origin_not_allowed"
    )
    assert InstallationRefusal.objects.get(agent=agent, host="s0.test").count == 2


def test_another_agents_refusals_are_never_shown(
    client: Client, agent: Agent, other_workspace: Workspace
) -> None:
    theirs = make_agent(other_workspace, name="Theirs", domains=["globex.test"])
    assert start(client, theirs, REFUSED).status_code == 403
    assert installation_status(agent).refusals == []
    assert [r.host for r in installation_status(theirs).refusals] == ["blog.acme.test"]


def test_a_real_load_shows_up_under_its_domain(client: Client, agent: Agent) -> None:
    load_from(client, agent, SITE_ORIGIN)
    domains = {d.pattern: d for d in installation_status(agent).domains}
    shop = domains["shop.example.com"]
    assert shop.status == "ok" and shop.ago == "just now"
    assert [(h.host, h.loads) for h in shop.hosts] == [("shop.example.com", 1)]
    assert domains["*.example.org"].status == "waiting"
    assert domains["*.example.org"].sentence == (
        "no load yet: open the chat on a page of any subdomain of example.org that has the snippet"
    )


def test_a_wildcard_entry_collects_its_subdomains(client: Client, agent: Agent) -> None:
    load_from(client, agent, "https://blog.example.org")
    load_from(client, agent, "https://docs.example.org")
    wildcard = next(d for d in installation_status(agent).domains if d.pattern == "*.example.org")
    assert wildcard.status == "ok"
    assert sorted(h.host for h in wildcard.hosts) == ["blog.example.org", "docs.example.org"]


def test_older_loads_come_from_the_hourly_roll_ups(client: Client, agent: Agent) -> None:
    ten_days_ago = (timezone.now() - timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    MetricsBucket.objects.create(
        workspace=agent.workspace,
        agent_id=agent.public_id,
        domain="shop.example.com",
        grain=MetricsBucket.Grain.HOUR,
        start=ten_days_ago,
        loads=40,
    )
    shop = installation_status(agent).domains[0]
    assert shop.status == "stale" and "no load for 10 days" in shop.sentence
    assert shop.hosts[0].loads == 40
    # A load today: exact time from the raw event, counted with the older ones.
    load_from(client, agent, SITE_ORIGIN)
    shop = installation_status(agent).domains[0]
    assert shop.status == "ok" and shop.ago == "just now" and shop.hosts[0].loads == 41


def test_allowing_a_host_fixes_the_refusal_and_a_load_clears_it(
    client: Client, agent: Agent, owner: Any
) -> None:
    start(client, agent, REFUSED)
    assert installation_host_allow(agent=agent, host="blog.acme.test", by=owner) == "blog.acme.test"
    assert "blog.acme.test" in WidgetConfig.objects.get(agent=agent).allowed_domains
    [refusal] = installation_status(agent).refusals
    assert refusal.status == "fixed" and refusal.allow_host == ""
    assert "reload a page of blog.acme.test" in refusal.sentence
    load_from(client, agent, REFUSED)
    assert installation_status(agent).refusals == []
    # Allowing again adds nothing; a host a wildcard covers is not added twice.
    installation_host_allow(agent=agent, host="blog.acme.test", by=owner)
    installation_host_allow(agent=agent, host="news.example.org", by=owner)
    domains = WidgetConfig.objects.get(agent=agent).allowed_domains
    assert domains.count("blog.acme.test") == 1 and "news.example.org" not in domains


def test_a_switched_off_agent_is_told_apart_from_an_unknown_one(
    client: Client, agent: Agent
) -> None:
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    cache.clear()
    assert start(client, agent, SITE_ORIGIN).status_code == 404
    row = InstallationRefusal.objects.get(agent=agent)
    assert row.reason == "agent_inactive"
    status = installation_status(agent)
    assert status.refusals[0].sentence == "agent switched off: tick Active on the agent's page"
    assert {d.status for d in status.domains} == {"off"}


def test_identity_required_refusals_carry_the_token_reason(client: Client, agent: Agent) -> None:
    identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)
    Agent.objects.filter(pk=agent.pk).update(identity_required=True)
    cache.clear()
    assert start(client, agent, SITE_ORIGIN).status_code == 401
    row = InstallationRefusal.objects.get(agent=agent, reason="identity_required")
    assert row.detail == "no_token"
    [refusal] = installation_status(agent).refusals
    assert refusal.sentence == "verified customers only: the page sent no customerToken or userHash"
    assert start(client, agent, SITE_ORIGIN, customerToken="not.a.jwt").status_code == 401
    row.refresh_from_db()
    assert row.count == 2 and row.detail not in ("", "no_token")
    [refusal] = installation_status(agent).refusals
    assert refusal.sentence == (
        f"verified customers only: the customer's token was refused ({row.detail})"
    )


def test_the_websocket_and_core_hooks_note_a_site_that_is_not_allowed(agent: Agent) -> None:
    assert installation_origin_note(agent_public_id=agent.public_id, origin=REFUSED)
    # Debounced: a burst of the same origin writes once.
    assert not installation_origin_note(agent_public_id=agent.public_id, origin=REFUSED)
    assert not installation_origin_note(agent_public_id=agent.public_id, origin=SITE_ORIGIN)
    assert not installation_origin_note(agent_public_id="agt_nobody", origin=REFUSED)
    assert InstallationRefusal.objects.get(agent=agent).count == 1


def test_the_core_redirect_notes_the_importing_page(client: Client, agent: Agent) -> None:
    response = client.get(f"/widget/core.js?agent={agent.public_id}", HTTP_ORIGIN=REFUSED)
    assert response.status_code in (302, 503)
    assert InstallationRefusal.objects.get(agent=agent).host == "blog.acme.test"
