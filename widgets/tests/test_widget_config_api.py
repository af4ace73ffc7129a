"""The widget REST API as an owner, a teammate (support agent) and an outsider."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from widgets.models import CoreBuild, WidgetConfig, WidgetRelease
from widgets.selectors import widget_public_config

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(agent: Any, rest: str = "") -> str:
    return f"/api/v2/agents/{agent.public_id}/widget{rest}"


def error(response: Any) -> dict[str, Any]:
    return dict(response.json()["error"])


def test_an_owner_reads_and_patches_the_draft(owner: Any, agent: Any) -> None:
    draft = api(owner).get(url(agent))
    assert draft.status_code == 200
    body = draft.json()
    assert body["agentId"] == agent.public_id and body["publishedVersion"] is None
    assert body["allowedDomains"] == ["shop.example.com", "*.example.org", "127.0.0.1"]
    assert body["hasUnpublishedChanges"] is False  # never published: the draft is live

    changed = api(owner).patch(
        url(agent),
        {"theme": {"primaryColor": "#0f766e"}, "greeting": "Hi!", "starterPrompts": [" Hours "]},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["theme"] == {"primaryColor": "#0f766e"}
    assert changed.json()["starterPrompts"] == ["Hours"]
    agent.refresh_from_db()
    assert agent.greeting == "Hi!"


def test_an_invalid_patch_names_every_problem_and_saves_nothing(owner: Any, agent: Any) -> None:
    response = api(owner).patch(
        url(agent),
        {"theme": {"primaryColor": "red;}"}, "position": "top", "allowedDomains": ["bad host"]},
        format="json",
    )
    assert response.status_code == 400
    problem = error(response)
    assert problem["code"] == "invalid_widget_config"
    for field in ("theme", "position", "allowedDomains"):
        assert field in problem["message"]
    assert WidgetConfig.objects.get(agent=agent).theme == {
        "primaryColor": "#4f46e5",
        "mode": "light",
    }


def test_publish_list_detail_and_rollback(owner: Any, agent: Any) -> None:
    first = api(owner).post(url(agent, "/publish"), {"note": "Launch"}, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["version"] == 1 and first.json()["isLive"] is True
    again = api(owner).post(url(agent, "/publish"), {}, format="json")
    assert again.status_code == 409 and error(again)["code"] == "nothing_to_publish"

    api(owner).patch(url(agent), {"theme": {"primaryColor": "#000000"}}, format="json")
    assert api(owner).get(url(agent)).json()["hasUnpublishedChanges"] is True
    second = api(owner).post(url(agent, "/publish"), {"note": "Black"}, format="json")
    assert second.json()["diff"]["againstVersion"] == 1
    assert [c["text"] for c in second.json()["diff"]["changes"]] == [
        'Theme > Mode: removed (was "light")',
        'Theme > Primary color: "#4f46e5" → "#000000"',
    ]

    listed = api(owner).get(url(agent, "/releases")).json()
    assert [(r["version"], r["note"], r["createdBy"], r["isLive"]) for r in listed["results"]] == [
        (2, "Black", "owner", True),
        (1, "Launch", "owner", False),
    ]
    detail = api(owner).get(url(agent, "/releases/2")).json()
    assert detail["snapshot"]["theme"] == {"primaryColor": "#000000"}
    paths = [c["path"] for c in detail["diff"]["changes"]]
    assert paths == ["theme.mode", "theme.primaryColor"]
    assert api(owner).get(url(agent, "/releases/2?against=draft")).json()["diff"]["changes"] == []
    assert api(owner).get(url(agent, "/releases/2?against=nope")).status_code == 400
    assert api(owner).get(url(agent, "/releases/9")).status_code == 404

    rolled = api(owner).post(url(agent, "/releases/1/rollback"), {}, format="json")
    assert rolled.status_code == 201
    assert (rolled.json()["version"], rolled.json()["rollbackOf"]) == (3, 1)
    assert widget_public_config(agent)["theme"] == {"primaryColor": "#4f46e5", "mode": "light"}


def test_a_teammate_reads_but_may_not_publish_or_edit(
    owner: Any, teammate: Any, agent: Any
) -> None:
    api(owner).post(url(agent, "/publish"), {}, format="json")
    assert api(teammate).get(url(agent)).status_code == 200
    assert api(teammate).get(url(agent, "/releases")).status_code == 200
    for method, rest, body in [
        ("patch", "", {"greeting": "x"}),
        ("post", "/publish", {}),
        ("post", "/releases/1/rollback", {}),
        ("post", "/import", {}),
    ]:
        response = getattr(api(teammate), method)(url(agent, rest), body, format="json")
        assert response.status_code == 403, (method, rest)


def test_another_workspace_reaches_none_of_it(outsider: Any, owner: Any, agent: Any) -> None:
    api(owner).post(url(agent, "/publish"), {}, format="json")
    for method, rest in [
        ("get", ""),
        ("patch", ""),
        ("post", "/publish"),
        ("get", "/releases"),
        ("get", "/releases/1"),
        ("post", "/releases/1/rollback"),
        ("get", "/snippet"),
        ("get", "/export"),
        ("post", "/import"),
    ]:
        response = getattr(api(outsider), method)(url(agent, rest), {}, format="json")
        assert response.status_code == 404, (method, rest)
        assert error(response)["code"] == "not_found"
    assert WidgetRelease.objects.filter(agent=agent).count() == 1


def test_the_snippet_has_both_forms_and_integrity_when_pinned(owner: Any, agent: Any) -> None:
    plain = api(owner).get(url(agent, "/snippet")).json()
    assert f'agentId: "{agent.public_id}"' in plain["configured"]
    assert f'data-agent-id="{agent.public_id}"' in plain["zeroConfig"]
    assert plain["pinned"] is None and plain["coreVersion"] == ""

    build = CoreBuild.objects.create(
        version="2.0.0-PINNED11",
        path="widget/core.PINNED11.js",
        integrity="sha384-core",
        loader_path="widget/loader.LPINNED1.js",
        loader_integrity="sha384-loader",
    )
    pinning = api(owner).patch(url(agent), {"coreVersion": build.version}, format="json")
    assert pinning.status_code == 200
    pinned = api(owner).get(url(agent, "/snippet")).json()["pinned"]
    assert pinned["version"] == build.version
    assert pinned["coreUrl"].endswith("/static/widget/core.PINNED11.js")
    assert 'integrity="sha384-loader" crossorigin="anonymous"' in pinned["snippet"]
    preload = f'<link rel="modulepreload" href="{pinned["coreUrl"]}" integrity="sha384-core"'
    assert preload in pinned["snippet"]


def test_export_then_import_into_another_agent(owner: Any, agent: Any, workspace: Any) -> None:
    from conftest import make_agent

    api(owner).patch(
        url(agent),
        {"theme": {"primaryColor": "#0f766e", "mode": "dark"}, "triggers": {"delayMs": 5000}},
        format="json",
    )
    document = api(owner).get(url(agent, "/export")).json()
    assert document["format"] == "customeragent.widget" and document["version"] == 1
    assert "allowedDomains" not in document["widget"]
    twin = make_agent(workspace, name="Twin", domains=["twin.example.com"])
    imported = api(owner).post(url(twin, "/import"), document, format="json")
    assert imported.status_code == 200, imported.content
    body = imported.json()
    assert body["theme"] == {"primaryColor": "#0f766e", "mode": "dark"}
    assert body["triggers"] == {"delayMs": 5000}
    assert body["allowedDomains"] == ["twin.example.com"]  # never travels in a file


@pytest.mark.parametrize(
    ("document", "code", "names"),
    [
        ({"widget": {"position": "bottom-left"}}, "invalid_widget_document", "format"),
        (
            {"format": "customeragent.widget", "version": 2, "widget": {}},
            "invalid_widget_document",
            "version",
        ),
        (
            {"format": "customeragent.widget", "version": 1, "widget": {"theme": ["x"]}},
            "invalid_widget_config",
            "theme",
        ),
        (
            {
                "format": "customeragent.widget",
                "version": 1,
                "widget": {"allowedDomains": ["*"], "triggers": {"delayMs": -1}},
            },
            "invalid_widget_config",
            "allowedDomains",
        ),
        (
            {
                "format": "customeragent.widget",
                "version": 1,
                "widget": {"customCss": "x" * 20_001, "starterPrompts": ["a"] * 5},
            },
            "invalid_widget_config",
            "starterPrompts",
        ),
    ],
)
def test_import_refuses_invalid_configs(
    owner: Any, agent: Any, document: dict[str, Any], code: str, names: str
) -> None:
    before = api(owner).get(url(agent)).json()
    response = api(owner).post(url(agent, "/import"), document, format="json")
    assert response.status_code == 400
    assert error(response)["code"] == code
    assert names in error(response)["message"]
    after = api(owner).get(url(agent)).json()
    assert {k: v for k, v in after.items() if k != "updatedAt"} == {
        k: v for k, v in before.items() if k != "updatedAt"
    }


def test_the_custom_domain_is_read_and_written_through_the_api(owner: Any, agent: Any) -> None:
    changed = api(owner).patch(url(agent), {"customDomain": "Chat.Shop.Example.com"}, format="json")
    assert changed.status_code == 200, changed.content
    draft = api(owner).get(url(agent)).json()
    assert draft["customDomain"] == "chat.shop.example.com"
    assert draft["customDomainStatus"] == "pending"
    assert draft["customDomainVerification"]["recordName"] == "_customeragent.chat.shop.example.com"
    snippet = api(owner).get(url(agent, "/snippet")).json()
    assert "chat.shop.example.com" not in snippet["configured"]  # until DNS proves it
    WidgetConfig.objects.filter(agent=agent).update(custom_domain_verified_at=timezone.now())
    snippet = api(owner).get(url(agent, "/snippet")).json()
    assert 'src="https://chat.shop.example.com/widget.js"' in snippet["configured"]
    refused = api(owner).patch(url(agent), {"customDomain": "10.0.0.1"}, format="json")
    assert refused.status_code == 400
