"""The widget customizer in the admin: the owner edits the draft beside a live preview, a
teammate looks, an outsider reaches nothing; the rules behind its feedback (CSS syntax,
contrast, the custom domain) are the server's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from agents.models import Agent
from security.models import AuditEntry
from widgets.config.contrast import contrast_ratio, theme_contrast_warnings
from widgets.config.css_check import css_errors
from widgets.config.validation import WidgetConfigInvalid, custom_domain_validate
from widgets.models import WidgetConfig
from widgets.publishing.drafts import widget_draft_state, widget_draft_update
from widgets.tests.dns_server import fake_dns

pytestmark = pytest.mark.django_db

CASES = json.loads((Path(__file__).parent / "contrast_cases.json").read_text())


def url(agent: Agent, name: str = "") -> str:
    suffix = f"_{name}" if name else ""
    return reverse(f"admin:agents_agent_widget_customize{suffix}", args=[agent.pk])


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def post_json(client: Client, target: str, body: Any) -> Any:
    return client.post(target, json.dumps(body), content_type="application/json")


def test_the_owner_sees_the_form_and_the_preview_frame(
    client: Client, owner: Any, agent: Agent
) -> None:
    response = signed_in(client, owner).get(url(agent))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-ca="customize-form"' in html and 'data-ca="save"' in html
    assert f'src="{url(agent, "preview")}"' in html
    assert "widgets/customize.js" in html and "<script>" not in html  # CSP: no inline script
    assert response.context["state"]["greeting"] == "Hello there!"


def test_the_preview_frame_may_be_framed_by_the_admin_only(
    client: Client, owner: Any, agent: Agent
) -> None:
    widget_draft_update(agent=agent, values={"theme": {"primaryColor": "#0f766e"}})
    response = signed_in(client, owner).get(url(agent, "preview"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert "customizer/preview.js" in html
    assert '"primaryColor": "#0f766e"' in html  # the draft, not what is live


def test_save_draft_changes_the_draft_and_not_what_is_live(
    client: Client, owner: Any, agent: Agent
) -> None:
    from widgets.publishing.releases import widget_publish
    from widgets.selectors import widget_public_config

    widget_publish(agent=agent, by=owner)
    response = post_json(
        signed_in(client, owner),
        url(agent),
        {"theme": {"primaryColor": "#0f766e", "mode": "dark"}, "greeting": "Hi!", "bogus": 1},
    )
    assert response.status_code == 200
    assert response.json()["state"]["hasUnpublishedChanges"] is True
    assert widget_draft_state(agent)["theme"] == {"primaryColor": "#0f766e", "mode": "dark"}
    assert widget_public_config(agent)["greeting"] == "Hello there!"


def test_save_names_each_field_that_breaks_a_rule_and_saves_nothing(
    client: Client, owner: Any, agent: Agent
) -> None:
    response = post_json(
        signed_in(client, owner),
        url(agent),
        {"theme": {"primaryColor": "teal"}, "customCss": ".a{color red}", "greeting": "Yo"},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"theme", "customCss"}
    assert "line 1, column" in errors["customCss"]
    assert Agent.objects.get(pk=agent.pk).greeting == "Hello there!"


def test_the_check_reports_css_errors_and_contrast_without_saving(
    client: Client, owner: Any, agent: Agent
) -> None:
    body = {"customCss": ".a { color: red }\n.b { color red }", "theme": {"textColor": "#9ca3af"}}
    response = post_json(signed_in(client, owner), url(agent, "check"), body)
    assert response.status_code == 200
    data = response.json()
    assert data["cssErrors"][0]["line"] == 2
    assert data["errors"]["customCss"].startswith("The CSS has syntax errors")
    assert [w["field"] for w in data["contrast"]] == ["textColor"]
    assert WidgetConfig.objects.get(agent=agent).custom_css == ""


def test_a_teammate_sees_the_customizer_but_cannot_save(
    client: Client, teammate: Any, agent: Agent
) -> None:
    signed_in(client, teammate)
    page = client.get(url(agent))
    assert page.status_code == 200 and 'data-ca="save"' not in page.content.decode()
    assert client.get(url(agent, "preview")).status_code == 200
    assert post_json(client, url(agent), {"greeting": "Mine now"}).status_code == 403
    assert client.post(url(agent, "logo"), {}).status_code == 403
    assert client.post(url(agent, "domain_check")).status_code == 403
    assert Agent.objects.get(pk=agent.pk).greeting == "Hello there!"


@pytest.mark.parametrize("name", ["", "preview", "check", "logo", "domain_check"])
def test_it_rejects_other_workspace(client: Client, outsider: Any, agent: Agent, name: str) -> None:
    signed_in(client, outsider)
    assert client.get(url(agent, name)).status_code == 404
    assert post_json(client, url(agent, name), {"greeting": "Hacked"}).status_code == 404
    assert Agent.objects.get(pk=agent.pk).greeting == "Hello there!"


def test_signed_out_visitors_are_sent_to_the_login(client: Client, agent: Agent) -> None:
    for name in ("", "preview", "check"):
        response = client.get(url(agent, name))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- the rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("css", "position"),
    [
        (".a{color:red", (1, 3)),
        (".a{color:red}}", (1, 14)),
        ("/* never closed", (1, 1)),
        ('.a{}\n.b{content:"x}', (2, 3)),
        ("@media (max-width: 400px) {\n  .a { color red }\n}", (2, 14)),
        (".a { color: }", (1, 6)),
    ],
)
def test_css_syntax_errors_come_with_their_line_and_column(
    css: str, position: tuple[int, int]
) -> None:
    first = css_errors(css)[0]
    assert (first["line"], first["column"]) == position


def test_valid_css_has_no_errors() -> None:
    css = (
        ".nm { letter-spacing: 2px }\n@media (max-width: 480px) { .p { border-radius: 0 } }\n"
        '@keyframes pulse { from { opacity: 0 } to { opacity: 1 } }\n.q::after { content: "}" }'
    )
    assert css_errors(css) == []
    assert css_errors("") == []


def test_contrast_matches_the_shared_cases() -> None:
    """The customizer's JavaScript reads the same cases (frontend/test/contrast.test.js)."""
    for first, second, ratio in CASES["ratios"]:
        assert contrast_ratio(first, second) == ratio
    for theme, expected in CASES["themes"]:
        found = [[w["field"], w["mode"], w["ratio"]] for w in theme_contrast_warnings(theme)]
        assert found == expected, theme


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("Chat.Example.com", "chat.example.com"), ("chat.example.com.", "chat.example.com"), ("", "")],
)
def test_a_custom_domain_is_a_lowercased_host(raw: str, clean: str) -> None:
    assert custom_domain_validate(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "10.0.0.1",
        "::1",
        "https://chat.example.com",
        "chat.example.com:443",
        "localhost",
        "a..b",
        "-x.example.com",
        "x" * 250 + ".com",
    ],
)
def test_a_custom_domain_refuses_what_is_not_a_host_name(raw: str) -> None:
    with pytest.raises(ValueError, match="host name"):
        custom_domain_validate(raw)


@override_settings(PUBLIC_BASE_URL="https://chat.platform.test")
def test_a_custom_domain_is_not_the_platform_itself() -> None:
    with pytest.raises(ValueError, match="platform"):
        custom_domain_validate("chat.platform.test")


def test_the_custom_domain_applies_at_once_and_is_audited(owner: Any, agent: Agent) -> None:
    from widgets.publishing.releases import widget_publish

    widget_publish(agent=agent, by=owner)
    widget_draft_update(agent=agent, values={"customDomain": "Chat.Shop.Example.com"}, by=owner)
    state = widget_draft_state(agent)
    assert state["customDomain"] == "chat.shop.example.com"
    assert state["hasUnpublishedChanges"] is False  # not part of a release
    entry = AuditEntry.objects.get(action="widget.access_changed")
    assert "customDomain" in json.dumps(entry.changes)
    with pytest.raises(WidgetConfigInvalid):
        widget_draft_update(agent=agent, values={"customDomain": "127.0.0.1"})


def test_check_now_verifies_the_custom_domain_from_dns(
    client: Client, owner: Any, agent: Agent, settings: Any
) -> None:
    signed_in(client, owner)
    assert (
        post_json(client, url(agent), {"customDomain": "chat.shop.example.com"}).status_code == 200
    )
    html = client.get(url(agent)).content.decode()
    assert 'data-ca="domain-proof"' in html and 'data-ca="domain-check"' in html
    state = client.get(url(agent)).context["state"]
    record = state["customDomainVerification"]
    assert state["customDomainStatus"] == "pending"
    with fake_dns() as zone:
        settings.CUSTOM_DOMAIN_DNS_RESOLVER = zone.address
        zone.records[record["recordName"]] = [record["recordValue"]]
        checked = client.post(url(agent, "domain_check"))
    assert checked.status_code == 200
    assert checked.json()["state"]["customDomainStatus"] == "verified"
    assert AuditEntry.objects.filter(action="widget.custom_domain_verified").exists()


def test_check_now_without_a_custom_domain_says_so(
    client: Client, owner: Any, agent: Agent
) -> None:
    response = signed_in(client, owner).post(url(agent, "domain_check"))
    assert response.status_code == 400
    assert "no custom domain" in response.json()["error"]["message"]


def test_the_tls_ask_endpoint_allows_only_active_agents_domains(
    client: Client, agent: Agent, other_agent: Agent
) -> None:
    widget_draft_update(agent=agent, values={"customDomain": "chat.shop.example.com"})
    ask = "/api/v2/tls/ask?domain="
    assert client.get(ask + "chat.shop.example.com").status_code == 404  # not yet proven
    cache.clear()
    WidgetConfig.objects.filter(agent=agent).update(custom_domain_verified_at=timezone.now())
    assert client.get(ask + "chat.shop.example.com").status_code == 200
    assert client.get(ask + "CHAT.shop.example.com.").status_code == 200
    assert client.get(ask + "evil.example.com").status_code == 404
    assert client.get(ask).status_code == 404
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    cache.clear()
    assert client.get(ask + "chat.shop.example.com").status_code == 404


@override_settings(RATE_LIMITS_ENABLED=True)
def test_the_tls_ask_endpoint_is_rate_limited(client: Client) -> None:
    statuses = {client.get("/api/v2/tls/ask?domain=x.example.com").status_code for _ in range(61)}
    assert statuses == {404, 429}


def test_the_launcher_icon_is_one_the_widget_can_draw(agent: Agent) -> None:
    widget_draft_update(agent=agent, values={"theme": {"launcherIcon": "bolt"}})
    assert widget_draft_state(agent)["theme"]["launcherIcon"] == "bolt"
    with pytest.raises(WidgetConfigInvalid, match="launcherIcon"):
        widget_draft_update(agent=agent, values={"theme": {"launcherIcon": "M0 0L24 24"}})
