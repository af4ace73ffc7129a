"""The Deploy page: the owner sees and changes everything, a support agent sees but cannot
change (403), another workspace reaches nothing (404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agents.models import Agent
from security.models import AuditEntry
from widgets.installation.refusals import installation_refusal_record
from widgets.models import CoreBuild, WidgetConfig

pytestmark = pytest.mark.django_db

REFUSED = "https://blog.acme.test"


def page(agent: Agent) -> str:
    return reverse("admin:agents_agent_widget_deploy", args=[agent.pk])


def status(agent: Agent) -> str:
    return reverse("admin:agents_agent_widget_deploy_status", args=[agent.pk])


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def domains_of(agent: Agent) -> list[str]:
    return list(WidgetConfig.objects.get(agent=agent).allowed_domains)


def test_the_owner_sees_snippets_guides_domains_and_identity(
    client: Client, owner: Any, agent: Agent
) -> None:
    response = signed_in(client, owner).get(page(agent))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert f"window.CustomerAgent = {{ agentId: &quot;{agent.public_id}&quot; }};" in html
    assert f"data-agent-id=&quot;{agent.public_id}&quot;" in html
    for guide in ("html", "wordpress", "shopify", "gtm", "react"):
        assert f'data-ca="guide-{guide}"' in html
    assert 'strategy="afterInteractive"' in html
    assert "layout/theme.liquid" in html
    assert 'data-ca="domains-form"' in html and "*.example.org" in html
    assert reverse("admin:agents_agent_identity", args=[agent.pk]) in html
    assert 'data-ca="sri-howto"' in html  # not pinned: how to pin, no SRI snippet
    assert "/static/widgets/deploy.js" in html and "<script>" not in html.split("</head>")[1]


def test_a_pinned_agent_gets_the_snippet_with_integrity(
    client: Client, owner: Any, agent: Agent
) -> None:
    CoreBuild.objects.create(
        version="2.0.0-PINNED11",
        path="widget/core.PINNED11.js",
        integrity="sha384-core",
        loader_path="widget/loader.LPINNED1.js",
        loader_integrity="sha384-loader",
    )
    WidgetConfig.objects.filter(agent=agent).update(core_version="2.0.0-PINNED11")
    html = signed_in(client, owner).get(page(agent)).content.decode()
    assert 'data-ca="snippet-pinned"' in html and "sha384-loader" in html
    assert 'data-ca="sri-howto"' not in html


def test_a_custom_domain_serves_every_snippet(client: Client, owner: Any, agent: Agent) -> None:
    WidgetConfig.objects.filter(agent=agent).update(
        custom_domain="chat.acme.test", custom_domain_verified_at=timezone.now()
    )
    html = signed_in(client, owner).get(page(agent)).content.decode()
    assert "https://chat.acme.test/widget.js" in html
    api = APIClient()
    api.force_authenticate(owner)
    snippet = api.get(f"/api/v2/agents/{agent.public_id}/widget/snippet").json()
    assert 'src="https://chat.acme.test/widget.js"' in snippet["configured"]
    assert 'src="https://chat.acme.test/widget.js"' in snippet["zeroConfig"]
    change = client.get(reverse("admin:agents_agent_change", args=[agent.pk])).content.decode()
    assert "https://chat.acme.test/widget.js" in change


def test_the_agent_page_links_to_deploy(client: Client, owner: Any, agent: Agent) -> None:
    html = signed_in(client, owner).get(reverse("admin:agents_agent_change", args=[agent.pk]))
    assert f"href='{page(agent)}'" in html.content.decode()
    assert "Deploy on my site →" in html.content.decode()


def test_saving_allowed_domains_applies_and_audits(
    client: Client, owner: Any, agent: Agent
) -> None:
    response = signed_in(client, owner).post(
        page(agent),
        {"action": "domains", "allowed_domains": "shop.example.com\n\n  www.acme.test \n"},
    )
    assert response.status_code == 302
    assert domains_of(agent) == ["shop.example.com", "www.acme.test"]
    assert AuditEntry.objects.filter(action="widget.access_changed").exists()
    assert "Allowed domains saved" in client.get(page(agent)).content.decode()


def test_an_invalid_domain_is_explained_and_nothing_saved(
    client: Client, owner: Any, agent: Agent
) -> None:
    before = domains_of(agent)
    response = signed_in(client, owner).post(
        page(agent), {"action": "domains", "allowed_domains": "shop.example.com\nhttp://a b/"}
    )
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert "http://a b/" in response.content.decode()
    assert domains_of(agent) == before


def test_allow_in_one_click_from_a_refusal(client: Client, owner: Any, agent: Agent) -> None:
    installation_refusal_record(agent_pk=agent.pk, origin=REFUSED, reason="origin_not_allowed")
    html = signed_in(client, owner).get(page(agent)).content.decode()
    assert "origin not allowed: add blog.acme.test" in html
    assert "Allow blog.acme.test" in html
    response = client.post(page(agent), {"action": "allow", "host": "blog.acme.test"})
    assert response.status_code == 302 and response["Location"].endswith("#installation-check")
    assert "blog.acme.test" in domains_of(agent)
    data = client.get(status(agent)).json()
    assert data["refusals"][0]["status"] == "fixed" and data["refusals"][0]["allowHost"] == ""
    bad = client.post(page(agent), {"action": "allow", "host": "not a host/"})
    assert bad.status_code == 302 and "not a host" not in domains_of(agent)


def test_status_json_carries_the_check_and_its_fragment(
    client: Client, owner: Any, agent: Agent
) -> None:
    installation_refusal_record(agent_pk=agent.pk, origin=REFUSED, reason="origin_not_allowed")
    data = signed_in(client, owner).get(status(agent)).json()
    assert [d["pattern"] for d in data["domains"]] == [
        "shop.example.com",
        "*.example.org",
        "127.0.0.1",
    ]
    assert data["domains"][0]["status"] == "waiting" and data["domains"][0]["lastLoadAt"] is None
    assert data["refusals"][0]["sentence"] == "origin not allowed: add blog.acme.test"
    assert 'data-ca="install-refusals"' in data["html"] and data["digest"]


def test_a_support_agent_sees_but_cannot_change(
    client: Client, teammate: Any, agent: Agent
) -> None:
    installation_refusal_record(agent_pk=agent.pk, origin=REFUSED, reason="origin_not_allowed")
    signed_in(client, teammate)
    html = client.get(page(agent)).content.decode()
    assert 'data-ca="domains-readonly"' in html and 'data-ca="domains-form"' not in html
    assert "origin not allowed: add blog.acme.test" in html
    assert 'data-ca="allow"' not in html
    assert client.get(status(agent)).status_code == 200
    before = domains_of(agent)
    assert (
        client.post(page(agent), {"action": "domains", "allowed_domains": "x.test"}).status_code
        == 403
    )
    assert (
        client.post(page(agent), {"action": "allow", "host": "blog.acme.test"}).status_code == 403
    )
    assert domains_of(agent) == before


def test_another_workspace_reaches_none_of_it(client: Client, outsider: Any, agent: Agent) -> None:
    signed_in(client, outsider)
    assert client.get(page(agent)).status_code == 404
    assert client.get(status(agent)).status_code == 404
    response = client.post(page(agent), {"action": "allow", "host": "evil.test"})
    assert response.status_code == 404
    assert "evil.test" not in domains_of(agent)


def test_signed_out_visitors_are_sent_to_the_login(client: Client, agent: Agent) -> None:
    assert client.get(status(agent)).status_code == 302
