"""Presets, duplication, and the admin's publishing pages as owner, teammate and outsider."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from agents.models import Agent, KnowledgeArticle, McpServer
from customers.keys import identity_secret_rotate
from security.models import AuditEntry
from widgets.admin import WidgetConfigForm
from widgets.config.presets import PRESETS
from widgets.config.validation import APPEARANCE_FIELDS, widget_fields_validate
from widgets.models import WidgetConfig, WidgetRelease
from widgets.publishing.bulk import agent_duplicate, widget_preset_apply
from widgets.selectors import widget_public_config

pytestmark = pytest.mark.django_db


def page(name: str, agent: Agent, *args: Any) -> str:
    return reverse(f"admin:agents_agent_{name}", args=[agent.pk, *args])


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p["key"])
def test_every_preset_follows_the_rules(preset: Any) -> None:
    assert widget_fields_validate(preset["widget"], allowed=APPEARANCE_FIELDS)


def test_a_preset_rewrites_the_draft_but_not_security(agent: Agent, owner: Any) -> None:
    widget_preset_apply(agent=agent, preset_key="dark", by=owner)
    config = WidgetConfig.objects.get(agent=agent)
    assert config.theme["mode"] == "dark" and config.position == "bottom-left"
    assert config.allowed_domains == ["shop.example.com", "*.example.org", "127.0.0.1"]
    assert AuditEntry.objects.get(action="widget.preset_applied").changes == {"preset": "dark"}


def test_duplicating_copies_widget_and_knowledge_but_no_secrets(agent: Agent, owner: Any) -> None:
    identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)
    McpServer.objects.create(agent=agent, name="Shop", url="https://mcp.example.com/")
    Agent.objects.filter(pk=agent.pk).update(llm_api_key_sealed="sealed", system_prompt="Be kind")
    WidgetConfig.objects.filter(agent=agent).update(theme={"primaryColor": "#123456"})
    copy = agent_duplicate(agent=agent, by=owner)

    assert copy.public_id != agent.public_id and copy.name == "Helper (copy)"
    assert (copy.system_prompt, copy.llm_api_key_sealed) == ("Be kind", "")
    assert WidgetConfig.objects.get(agent=copy).theme == {"primaryColor": "#123456"}
    assert KnowledgeArticle.objects.filter(agent=copy).count() == agent.articles.count() > 0
    assert not copy.identity_keys.exists() and not copy.mcp_servers.exists()
    assert not WidgetRelease.objects.filter(agent=copy).exists()
    assert widget_public_config(copy)["theme"] == {"primaryColor": "#123456"}


def test_the_admin_form_uses_the_shared_rules() -> None:
    form = WidgetConfigForm(
        data={
            "allowed_domains": '["shop.example.com"]',
            "position": "bottom-right",
            "theme": '{"primaryColor": "blue; background:url(x)"}',
            "features": '["chat"]',
            "starter_prompts": "[]",
            "triggers": "{}",
            "custom_css": "",
            "rate_limits": "{}",
            "core_version": "",
        }
    )
    assert not form.is_valid()
    assert "theme.primaryColor must be a hex colour" in str(form.errors["theme"])


def test_the_agent_page_shows_what_is_live(owner: Any, agent: Agent) -> None:
    html = signed_in(owner).get(page("change", agent)).content.decode()
    assert "Never published" in html and page("widget_releases", agent) in html


def test_an_owner_publishes_and_rolls_back_in_the_admin(owner: Any, agent: Agent) -> None:
    client = signed_in(owner)
    listing = client.get(page("widget_releases", agent))
    assert listing.status_code == 200 and 'data-ca="publish"' in listing.content.decode()
    client.post(page("widget_releases", agent), {"action": "publish", "note": "v1 note"})
    WidgetConfig.objects.filter(agent=agent).update(position="bottom-left")
    html = client.get(page("widget_releases", agent)).content.decode()
    assert "Position: &quot;bottom-right&quot; → &quot;bottom-left&quot;" in html
    client.post(page("widget_releases", agent), {"action": "publish"})
    assert widget_public_config(agent)["position"] == "bottom-left"
    client.post(page("widget_releases", agent), {"action": "rollback", "version": "1"})
    assert widget_public_config(agent)["position"] == "bottom-right"
    detail = client.get(page("widget_release", agent, 3)).content.decode()
    assert "A rollback to v1" in detail
    assert [r.version for r in WidgetRelease.objects.filter(agent=agent)] == [3, 2, 1]


def test_presets_export_import_and_duplicate_pages(owner: Any, agent: Agent) -> None:
    client = signed_in(owner)
    assert 'data-ca="preset-shop"' in client.get(page("widget_presets", agent)).content.decode()
    client.post(page("widget_presets", agent), {"preset": "shop"})
    assert WidgetConfig.objects.get(agent=agent).theme["primaryColor"] == "#0f766e"

    exported = client.get(page("widget_export", agent))
    assert exported["Content-Disposition"].startswith("attachment")
    document = json.loads(exported.content)
    document["widget"]["position"] = "bottom-left"
    upload = SimpleUploadedFile("w.json", json.dumps(document).encode(), "application/json")
    client.post(page("widget_import", agent), {"upload": upload})
    assert WidgetConfig.objects.get(agent=agent).position == "bottom-left"

    refused = client.post(page("widget_import", agent), {"document": '{"format": "nope"}'})
    assert "Not a widget export" in refused.content.decode()
    not_json = client.post(page("widget_import", agent), {"document": "{oops"})
    assert "That is not JSON" in not_json.content.decode()

    made = client.post(page("duplicate", agent), {"name": "Helper EU"})
    copy = Agent.objects.get(name="Helper EU")
    assert made["Location"] == reverse("admin:agents_agent_change", args=[copy.pk])


def test_a_teammate_sees_releases_but_changes_nothing(teammate: Any, agent: Agent) -> None:
    client = signed_in(teammate)
    listing = client.get(page("widget_releases", agent))
    assert listing.status_code == 200 and 'data-ca="publish"' not in listing.content.decode()
    for name, data in [
        ("widget_releases", {"action": "publish"}),
        ("widget_presets", {"preset": "dark"}),
        ("widget_import", {"document": "{}"}),
        ("duplicate", {}),
    ]:
        assert client.post(page(name, agent), data).status_code == 403, name
    assert not WidgetRelease.objects.exists() and Agent.objects.count() == 1


def test_another_workspace_reaches_none_of_the_pages(outsider: Any, agent: Agent) -> None:
    client = signed_in(outsider)
    for name in ("widget_releases", "widget_presets", "widget_export", "widget_import"):
        assert client.get(page(name, agent)).status_code == 404, name
        assert client.post(page(name, agent), {"action": "publish"}).status_code == 404, name
    assert client.post(page("duplicate", agent)).status_code == 404
    assert not WidgetRelease.objects.exists()


def test_the_duplicate_action_respects_roles(owner: Any, teammate: Any, agent: Agent) -> None:
    changelist = reverse("admin:agents_agent_changelist")
    form = {"action": "duplicate_agents", "_selected_action": [agent.pk]}
    signed_in(teammate).post(changelist, form)
    assert Agent.objects.count() == 1
    signed_in(owner).post(changelist, form)
    assert Agent.objects.filter(name="Helper (copy)").exists()
