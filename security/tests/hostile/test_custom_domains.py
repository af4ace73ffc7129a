"""The attacker (the double agent, owner of B) claims a custom domain that is not theirs.

A host name belongs to one widget, and it serves nothing — no snippet, no certificate —
until the DNS of that name publishes the widget's own value in a TXT record. The DNS here
is real: a tiny server on 127.0.0.1 that the platform's resolver setting points at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from agents.models import Agent
from security.models import AuditEntry
from widgets.delivery import domain_dns
from widgets.delivery.custom_domains import record_value
from widgets.models import WidgetConfig
from widgets.tests.dns_server import FakeZone, fake_dns

pytestmark = pytest.mark.django_db

NAME = "chat.acme.example"
ASK = "/api/v2/tls/ask?domain="


@pytest.fixture
def zone(settings: Any) -> Iterator[FakeZone]:
    with fake_dns() as served:
        settings.CUSTOM_DOMAIN_DNS_RESOLVER = served.address
        yield served


def api(principal: Any) -> APIClient:
    client = APIClient()
    if isinstance(principal, str):
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {principal}")
    else:
        client.force_authenticate(principal)
    return client


def widget_url(agent: Agent, rest: str = "") -> str:
    return f"/api/v2/agents/{agent.public_id}/widget{rest}"


def claim(user: Any, agent: Agent, domain: str) -> Any:
    return api(user).patch(widget_url(agent), {"customDomain": domain}, format="json")


def check(principal: Any, agent: Agent) -> Any:
    return api(principal).post(widget_url(agent, "/custom-domain/check"))


def publish(zone: FakeZone, domain: str, *values: str) -> None:
    zone.records[f"_customeragent.{domain}"] = list(values)


def proof(user: Any, agent: Agent) -> str:
    return str(api(user).get(widget_url(agent)).json()["customDomainVerification"]["recordValue"])


def verified(owner: Any, agent: Agent, zone: FakeZone, domain: str = NAME) -> None:
    assert claim(owner, agent, domain).status_code == 200
    publish(zone, domain, proof(owner, agent))
    assert check(owner, agent).json()["customDomainStatus"] == "verified"


def snippet(user: Any, agent: Agent) -> str:
    return str(api(user).get(widget_url(agent, "/snippet")).json()["configured"])


def test_another_workspace_cannot_take_a_verified_name(
    owner_a: Any, double_agent: Any, agent_a: Agent, agent_b: Agent, zone: FakeZone, client: Client
) -> None:
    verified(owner_a, agent_a, zone)
    refused = claim(double_agent, agent_b, "CHAT.Acme.example.")
    assert refused.status_code == 400
    message = refused.json()["error"]["message"]
    assert refused.json()["error"]["code"] == "invalid_widget_config"
    assert "already used by another workspace" in message
    assert "Acme" not in message  # the holder is not named
    assert WidgetConfig.objects.get(agent=agent_b).custom_domain == ""
    assert client.get(ASK + NAME).status_code == 200  # still A's
    assert "https://chat.acme.example/widget.js" in snippet(owner_a, agent_a)


def test_a_name_nobody_proved_gets_no_certificate_and_no_snippet(
    double_agent: Any, agent_b: Agent, zone: FakeZone, client: Client
) -> None:
    claimed = claim(double_agent, agent_b, "chat.victim.example")
    assert claimed.status_code == 200
    assert claimed.json()["customDomainStatus"] == "pending"
    assert client.get(ASK + "chat.victim.example").status_code == 404
    assert "chat.victim.example" not in snippet(double_agent, agent_b)
    checked = check(double_agent, agent_b).json()
    assert checked["customDomainStatus"] == "pending"
    assert (
        "no TXT record at _customeragent.chat.victim.example"
        in (checked["customDomainVerification"]["problem"])
    )


def test_only_the_widgets_own_value_in_dns_verifies_it(
    double_agent: Any, agent_b: Agent, zone: FakeZone, client: Client
) -> None:
    assert claim(double_agent, agent_b, "chat.victim.example").status_code == 200
    publish(zone, "chat.victim.example", "customeragent-domain-verification=someone-else")
    checked = check(double_agent, agent_b).json()
    assert checked["customDomainStatus"] == "pending"
    assert "does not hold this widget's value" in checked["customDomainVerification"]["problem"]
    publish(zone, "chat.victim.example", "v=spf1 -all", proof(double_agent, agent_b))
    assert check(double_agent, agent_b).json()["customDomainStatus"] == "verified"
    assert client.get(ASK + "chat.victim.example").status_code == 200
    assert "https://chat.victim.example/widget.js" in snippet(double_agent, agent_b)


def test_a_name_squatted_by_another_workspace_moves_to_whoever_proves_it(
    owner_a: Any, double_agent: Any, agent_a: Agent, agent_b: Agent, zone: FakeZone
) -> None:
    assert claim(double_agent, agent_b, NAME).status_code == 200  # squatted, pending
    refused = claim(owner_a, agent_a, NAME)
    assert refused.status_code == 400
    message = refused.json()["error"]["message"]
    assert f"TXT record _customeragent.{NAME} with the value " in message
    own_value = re.search(r"customeragent-domain-verification=\S+", message).group()  # type: ignore[union-attr]
    publish(zone, NAME, own_value)
    moved = claim(owner_a, agent_a, NAME)
    assert moved.status_code == 200, moved.content
    assert moved.json()["customDomainStatus"] == "verified"
    assert WidgetConfig.objects.get(agent=agent_b).custom_domain == ""
    released = AuditEntry.objects.get(action="widget.custom_domain_released")
    assert released.workspace_id == agent_b.workspace_id and released.target == agent_b.public_id
    assert released.actor is None and "owner-a" not in str(released.changes)


def test_a_holder_whose_record_still_stands_keeps_the_name(
    owner_a: Any, double_agent: Any, agent_a: Agent, agent_b: Agent, zone: FakeZone
) -> None:
    verified(owner_a, agent_a, zone)
    b_value = record_value(WidgetConfig.objects.get(agent=agent_b))
    publish(zone, NAME, proof(owner_a, agent_a), b_value)
    assert claim(double_agent, agent_b, NAME).status_code == 400
    assert WidgetConfig.objects.get(agent=agent_a).custom_domain_verified_at is not None


def test_a_removed_record_makes_the_name_pending_at_once(
    owner_a: Any,
    agent_a: Agent,
    zone: FakeZone,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    verified(owner_a, agent_a, zone)
    assert client.get(ASK + NAME).status_code == 200  # now cached
    zone.records.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the cached answer is dropped
        assert check(owner_a, agent_a).json()["customDomainStatus"] == "pending"
    assert client.get(ASK + NAME).status_code == 404
    assert AuditEntry.objects.filter(action="widget.custom_domain_unverified").exists()


def test_a_dns_outage_changes_nothing(
    owner_a: Any, agent_a: Agent, zone: FakeZone, monkeypatch: Any
) -> None:
    verified(owner_a, agent_a, zone)
    monkeypatch.setattr(domain_dns, "LOOKUP_SECONDS", 0.5)
    zone.silent.add(f"_customeragent.{NAME}")
    checked = check(owner_a, agent_a).json()
    assert checked["customDomainStatus"] == "verified"
    assert checked["customDomainVerification"]["problem"].startswith("No answer")


def test_only_the_workspaces_managers_may_check(
    owner_a: Any,
    double_agent: Any,
    outsider: Any,
    read_only_key: str,
    write_key: str,
    agent_a: Agent,
    zone: FakeZone,
) -> None:
    assert claim(owner_a, agent_a, NAME).status_code == 200
    assert check(double_agent, agent_a).status_code == 403  # support in A
    assert check(read_only_key, agent_a).status_code == 403
    assert check(outsider, agent_a).status_code == 404
    assert check(write_key, agent_a).status_code == 200
    assert zone.questions == [f"_customeragent.{NAME}"]  # the refused ones asked nothing


def test_the_database_holds_one_widget_per_name_in_any_case(agent_a: Agent, agent_b: Agent) -> None:
    WidgetConfig.objects.filter(agent=agent_a).update(custom_domain=NAME)
    with pytest.raises(IntegrityError), transaction.atomic():
        WidgetConfig.objects.filter(agent=agent_b).update(custom_domain="Chat.ACME.example")
    WidgetConfig.objects.filter(agent=agent_b).update(custom_domain="")  # none is no name
    WidgetConfig.objects.filter(agent=agent_a).update(custom_domain="")
