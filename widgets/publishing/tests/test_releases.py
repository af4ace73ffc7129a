"""Draft and publish, as visitors see it: the session's config follows releases only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from conftest import SITE_ORIGIN
from security.models import AuditEntry
from widgets.config.diff import config_diff, label_for
from widgets.models import ReleaseImmutable, WidgetConfig, WidgetRelease
from widgets.publishing.releases import (
    NothingToPublish,
    release_diff,
    widget_draft_changes,
    widget_draft_restore,
    widget_publish,
    widget_release_promote,
    widget_release_rollback,
)
from widgets.selectors import widget_public_config

pytestmark = pytest.mark.django_db


def session_config(agent: Any) -> dict[str, Any]:
    """The config a visitor's widget receives from POST /api/v2/widget/session."""
    response = Client().post(
        "/api/v2/widget/session",
        data=json.dumps({"agentId": agent.public_id}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )
    assert response.status_code == 200, response.content
    return dict(response.json()["config"])


def edit_draft(agent: Any, **fields: Any) -> None:
    config = WidgetConfig.objects.get(agent=agent)
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()


def test_an_agent_that_never_published_shows_its_draft_as_before(agent: Any) -> None:
    edit_draft(agent, theme={"primaryColor": "#0f766e"})
    assert session_config(agent)["theme"] == {"primaryColor": "#0f766e"}


def test_publishing_changes_the_session_while_an_unpublished_draft_does_not(
    agent: Any, owner: Any
) -> None:
    edit_draft(agent, theme={"primaryColor": "#111111"}, position="bottom-left")
    v1 = widget_publish(agent=agent, by=owner, note="Launch")
    assert (v1.version, v1.note, v1.created_by) == (1, "Launch", owner)

    edit_draft(agent, theme={"primaryColor": "#ff0000"}, position="bottom-right")
    agent.greeting = "A draft greeting"
    agent.save()
    live = session_config(agent)
    assert live["theme"] == {"primaryColor": "#111111"}
    assert live["position"] == "bottom-left"
    assert live["greeting"] == "Hello there!"

    widget_publish(agent=agent, by=owner)
    live = session_config(agent)
    assert live["theme"] == {"primaryColor": "#ff0000"}
    assert live["greeting"] == "A draft greeting"
    live_release = WidgetConfig.objects.get(agent=agent).published_release
    assert live_release is not None and live_release.version == 2


def test_allowed_domains_are_not_released_they_apply_at_once(agent: Any, owner: Any) -> None:
    widget_publish(agent=agent, by=owner)
    edit_draft(agent, allowed_domains=["other.example.net"])
    response = Client().post(
        "/api/v2/widget/session",
        data=json.dumps({"agentId": agent.public_id}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )
    assert response.status_code == 403


def test_rollback_restores_what_visitors_saw_as_a_new_version(agent: Any, owner: Any) -> None:
    edit_draft(agent, theme={"primaryColor": "#111111"})
    v1 = widget_publish(agent=agent, by=owner)
    edit_draft(agent, theme={"primaryColor": "#222222"}, starter_prompts=["Broken?"])
    widget_publish(agent=agent, by=owner)
    assert session_config(agent)["starterPrompts"] == ["Broken?"]

    v3 = widget_release_rollback(release=v1, by=owner)

    assert (v3.version, v3.rollback_of, v3.note) == (3, v1, "Rollback to v1")
    live = session_config(agent)
    assert live["theme"] == {"primaryColor": "#111111"}
    assert live["starterPrompts"] == []
    # The draft keeps its edits unless asked to follow.
    assert WidgetConfig.objects.get(agent=agent).starter_prompts == ["Broken?"]
    assert [change["path"] for change in widget_draft_changes(agent)] == [
        "theme.primaryColor",
        "starterPrompts",
    ]
    with pytest.raises(NothingToPublish):
        widget_release_rollback(release=v1, by=owner)


def test_rollback_can_bring_the_draft_back_too(agent: Any, owner: Any) -> None:
    edit_draft(agent, custom_css=".a{}")
    v1 = widget_publish(agent=agent, by=owner)
    edit_draft(agent, custom_css=".b{}")
    agent.greeting = "Changed"
    agent.save()
    widget_publish(agent=agent, by=owner)
    widget_release_rollback(release=v1, by=owner, restore_draft=True)
    config = WidgetConfig.objects.get(agent=agent)
    agent.refresh_from_db()
    assert (config.custom_css, agent.greeting) == (".a{}", "Hello there!")
    assert widget_draft_changes(agent) == []


def test_loading_a_release_into_the_draft_changes_nothing_live(agent: Any, owner: Any) -> None:
    edit_draft(agent, position="bottom-left")
    v1 = widget_publish(agent=agent, by=owner)
    edit_draft(agent, position="bottom-right")
    widget_publish(agent=agent, by=owner)
    widget_draft_restore(release=v1, by=owner)
    assert WidgetConfig.objects.get(agent=agent).position == "bottom-left"
    assert session_config(agent)["position"] == "bottom-right"


def test_publishing_the_same_draft_twice_is_refused(agent: Any, owner: Any) -> None:
    widget_publish(agent=agent, by=owner)
    with pytest.raises(NothingToPublish) as refused:
        widget_publish(agent=agent, by=owner)
    assert refused.value.status == 409 and refused.value.code == "nothing_to_publish"


def test_releases_are_immutable(agent: Any, owner: Any) -> None:
    release = widget_publish(agent=agent, by=owner)
    release.snapshot = {**release.snapshot, "greeting": "tampered"}
    with pytest.raises(ReleaseImmutable):
        release.save()
    with pytest.raises(ReleaseImmutable):
        release.delete()
    assert WidgetRelease.objects.get(pk=release.pk).snapshot["greeting"] == "Hello there!"
    agent.delete()  # the agent's history goes with it, and only then
    assert not WidgetRelease.objects.filter(pk=release.pk).exists()


def test_versions_count_per_agent(agent: Any, other_agent: Any, owner: Any) -> None:
    widget_publish(agent=agent, by=owner)
    edit_draft(agent, position="bottom-left")
    widget_publish(agent=agent, by=owner)
    assert widget_publish(agent=other_agent).version == 1


def test_the_diff_reads_field_by_field_with_nested_theme_keys(agent: Any, owner: Any) -> None:
    edit_draft(agent, theme={"primaryColor": "#4f46e5", "mode": "light"})
    widget_publish(agent=agent, by=owner)
    edit_draft(
        agent,
        theme={"primaryColor": "#0f766e", "mode": "light", "radius": 16},
        starter_prompts=["Where is my order?"],
        custom_css="x" * 200,
    )
    v2 = widget_publish(agent=agent, by=owner)
    changes = release_diff(v2)["changes"]
    assert [c["text"] for c in changes] == [
        'Theme > Primary color: "#4f46e5" → "#0f766e"',
        "Theme > Radius: set to 16",
        "Custom CSS: changed (0 → 200 characters)",
        'Starter prompts: added "Where is my order?"',
    ]
    by_path = {c["path"]: c for c in changes}
    assert by_path["theme.primaryColor"]["before"] == "#4f46e5"
    assert by_path["theme.radius"]["change"] == "added"
    assert release_diff(v2)["againstVersion"] == 1
    assert release_diff(v2, against="draft")["changes"] == []


def test_diff_texts_for_removed_keys_long_text_and_labels() -> None:
    changes = config_diff(
        {"theme": {"mode": "dark"}, "customCss": "a" * 100},
        {"theme": {}, "customCss": "b" * 120},
    )
    assert [c["text"] for c in changes] == [
        'Theme > Mode: removed (was "dark")',
        "Custom CSS: changed (100 → 120 characters)",
    ]
    assert label_for("launcherSize") == "Launcher size"


def test_publishing_and_rollback_are_audited(agent: Any, owner: Any) -> None:
    edit_draft(agent, position="bottom-left")
    v1 = widget_publish(agent=agent, by=owner, note="first")
    edit_draft(agent, position="bottom-right")
    widget_publish(agent=agent, by=owner)
    widget_release_rollback(release=v1, by=owner)
    entries = AuditEntry.objects.filter(target=agent.public_id).order_by("id")
    assert [e.action for e in entries] == [
        "widget.published",
        "widget.published",
        "widget.rolled_back",
    ]
    assert entries[1].changes["changes"] == ['Position: "bottom-left" → "bottom-right"']
    assert entries[2].actor == owner and entries[2].changes["fromVersion"] == 2


def test_a_promoted_winner_is_released_without_the_drafts_other_edits(
    agent: Any, owner: Any
) -> None:
    assert widget_release_promote(agent_id=agent.pk, overrides={"position": "x"}) is None
    widget_publish(agent=agent, by=owner)
    edit_draft(agent, custom_css=".unfinished{}")
    release = widget_release_promote(
        agent_id=agent.pk, overrides={"theme": {"primaryColor": "#0f766e"}}, note="winner"
    )
    assert release is not None and release.version == 2
    live = widget_public_config(agent)
    assert live["theme"]["primaryColor"] == "#0f766e"
    assert live["customCss"] == ""


def test_saving_a_config_read_before_a_publish_keeps_the_new_release_live(
    agent: Any, owner: Any
) -> None:
    widget_publish(agent=agent, by=owner)
    stale = WidgetConfig.objects.get(agent=agent)  # e.g. an admin form opened now
    edit_draft(agent, position="bottom-left")
    widget_publish(agent=agent, by=owner)
    stale.custom_css = ".x{}"
    stale.save()
    config = WidgetConfig.objects.get(agent=agent)
    assert config.published_release is not None and config.published_release.version == 2
    assert config.custom_css == ".x{}"
