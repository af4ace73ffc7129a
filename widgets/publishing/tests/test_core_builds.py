"""Widget code releases: registered builds, the stable channel, pins, and the redirect that
sends each site's loader to its agent's immutable core."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings

from security.models import AuditEntry
from widgets.config.validation import WidgetConfigInvalid
from widgets.models import CoreBuild, CoreChannel, WidgetConfig
from widgets.publishing import core_builds
from widgets.publishing.core_builds import (
    CoreChannelForbidden,
    core_builds_register,
    core_channel_move,
)
from widgets.publishing.drafts import widget_draft_update

pytestmark = pytest.mark.django_db


def build_entry(dist: Path, tag: str, built_at: str) -> dict[str, Any]:
    """Write one build's files into `dist` as frontend/build.mjs does; its releases entry."""
    core, loader = f"static/widget/core.{tag}.js", f"static/widget/loader.L{tag}.js"
    for path in (core, loader):
        (dist / path).parent.mkdir(parents=True, exist_ok=True)
        (dist / path).write_text(f"/* {path} */")
    return {
        "version": f"2.0.0-{tag}",
        "core": core,
        "coreIntegrity": f"sha384-core{tag}",
        "loader": loader,
        "loaderIntegrity": f"sha384-loader{tag}",
        "sizes": {"core": {"raw": 100, "gzip": 60}, "loader": {"raw": 50, "gzip": 40}},
        "builtAt": built_at,
    }


def write_dist(dist: Path, builds: list[dict[str, Any]]) -> None:
    """releases.json with every build, and a manifest naming the last (this build)."""
    (dist / "releases.json").write_text(json.dumps({"builds": builds}))
    current = builds[-1]
    (dist / "manifest.json").write_text(
        json.dumps(
            {
                "loader": "widget.js",
                "core": current["core"],
                "version": current["version"],
                "integrity": current["coreIntegrity"],
            }
        )
    )


@pytest.fixture
def dist(tmp_path: Path) -> Iterator[Path]:
    core_builds._available.clear()
    with override_settings(FRONTEND_DIST=tmp_path):
        yield tmp_path
    core_builds._available.clear()


@pytest.fixture
def two_builds(dist: Path) -> Path:
    """OLD1 deployed, then NEW2: both registered, NEW2 stable."""
    old = build_entry(dist, "OLD11111", "2026-01-01T00:00:00Z")
    write_dist(dist, [old])
    core_builds_register(dist=dist)
    write_dist(dist, [old, build_entry(dist, "NEW22222", "2026-02-01T00:00:00Z")])
    core_builds_register(dist=dist)
    return dist


@pytest.fixture
def superuser(db: Any) -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


def core_location(agent_id: str | None) -> str:
    url = "/widget/core.js" + (f"?agent={agent_id}" if agent_id else "")
    response = Client().get(url)
    assert response.status_code == 302, response.content
    return str(response["Location"])


def pin(agent: Any, version: str) -> None:
    config = WidgetConfig.objects.get(agent=agent)
    config.core_version = version
    config.save()  # a save, so the cached access rules are forgotten


def test_registering_records_every_build_and_a_new_one_becomes_stable(two_builds: Path) -> None:
    builds = CoreBuild.objects.order_by("created_at")
    assert [b.version for b in builds] == ["2.0.0-OLD11111", "2.0.0-NEW22222"]
    newest = builds.last()
    assert newest is not None
    assert (newest.path, newest.integrity) == ("widget/core.NEW22222.js", "sha384-coreNEW22222")
    assert (newest.loader_path, newest.size_gzip) == ("widget/loader.LNEW22222.js", 60)
    assert CoreChannel.objects.get(name="stable").build == newest


def test_the_redirect_is_short_cached_and_cross_origin(two_builds: Path, agent: Any) -> None:
    response = Client().get(f"/widget/core.js?agent={agent.public_id}")
    assert response.status_code == 302
    assert response["Location"] == "/static/widget/core.NEW22222.js"
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["X-Widget-Core-Version"] == "2.0.0-NEW22222"


def test_a_pinned_agent_gets_its_version_while_others_follow_stable(
    two_builds: Path, agent: Any, other_agent: Any
) -> None:
    pin(agent, "2.0.0-OLD11111")
    assert core_location(agent.public_id) == "/static/widget/core.OLD11111.js"
    assert core_location(other_agent.public_id) == "/static/widget/core.NEW22222.js"


def test_a_global_rollback_moves_every_unpinned_agent(
    two_builds: Path, agent: Any, other_agent: Any, superuser: Any
) -> None:
    pin(agent, "2.0.0-NEW22222")
    assert core_location(other_agent.public_id) == "/static/widget/core.NEW22222.js"
    core_channel_move(build=CoreBuild.objects.get(version="2.0.0-OLD11111"), by=superuser)
    # At once here; sites follow within the redirect's and the loader's max-age.
    assert core_location(other_agent.public_id) == "/static/widget/core.OLD11111.js"
    assert core_location(agent.public_id) == "/static/widget/core.NEW22222.js"  # pinned
    entry = AuditEntry.objects.get(action="widget.core_channel_moved", actor=superuser)
    assert entry.changes["from"] == "2.0.0-NEW22222" and entry.changes["to"] == "2.0.0-OLD11111"


def test_only_superusers_move_stable(two_builds: Path, owner: Any) -> None:
    with pytest.raises(CoreChannelForbidden):
        core_channel_move(build=CoreBuild.objects.get(version="2.0.0-OLD11111"), by=owner)
    assert CoreChannel.objects.get().build.version == "2.0.0-NEW22222"


def test_registering_again_never_undoes_a_rollback(two_builds: Path, superuser: Any) -> None:
    core_channel_move(build=CoreBuild.objects.get(version="2.0.0-OLD11111"), by=superuser)
    result = core_builds_register(dist=two_builds)  # the next restart of the same deploy
    assert (result.added, result.stable, result.stable_moved) == ([], "2.0.0-OLD11111", False)


def test_a_build_registered_without_promotion_waits_for_pins(dist: Path, agent: Any) -> None:
    old = build_entry(dist, "OLD11111", "2026-01-01T00:00:00Z")
    write_dist(dist, [old])
    core_builds_register(dist=dist)
    write_dist(dist, [old, build_entry(dist, "CANARY33", "2026-03-01T00:00:00Z")])
    result = core_builds_register(dist=dist, promote=False)
    assert result.added == ["2.0.0-CANARY33"] and result.stable == "2.0.0-OLD11111"
    pin(agent, "2.0.0-CANARY33")
    assert core_location(agent.public_id) == "/static/widget/core.CANARY33.js"


def test_a_pin_change_shows_at_once_despite_the_cache(two_builds: Path, agent: Any) -> None:
    assert core_location(agent.public_id).endswith("NEW22222.js")  # now cached
    pin(agent, "2.0.0-OLD11111")
    assert core_location(agent.public_id).endswith("OLD11111.js")
    pin(agent, "")
    assert core_location(agent.public_id).endswith("NEW22222.js")


def test_an_unknown_agent_gets_the_stable_core_and_a_malformed_id_is_refused(
    two_builds: Path,
) -> None:
    assert core_location("agt_doesnotexist") == "/static/widget/core.NEW22222.js"
    assert core_location(None) == "/static/widget/core.NEW22222.js"
    refused = Client().get("/widget/core.js?agent=<script>")
    assert refused.status_code == 400
    assert refused["Cache-Control"] == "no-store"


def test_a_build_this_server_lacks_falls_back_to_the_newest(two_builds: Path, agent: Any) -> None:
    pin(agent, "2.0.0-OLD11111")
    core_builds._available.clear()
    (two_builds / "static/widget/core.OLD11111.js").unlink()
    assert core_location(agent.public_id) == "/static/widget/core.NEW22222.js"


def test_stable_cannot_point_at_a_build_this_server_lacks(two_builds: Path, superuser: Any) -> None:
    core_builds._available.clear()
    (two_builds / "static/widget/core.OLD11111.js").unlink()
    with pytest.raises(Exception, match="not on this server"):
        core_channel_move(build=CoreBuild.objects.get(version="2.0.0-OLD11111"), by=superuser)


def test_without_registered_builds_the_newest_build_is_served(dist: Path) -> None:
    write_dist(dist, [build_entry(dist, "ONLY4444", "2026-01-01T00:00:00Z")])
    assert core_location(None) == "/static/widget/core.ONLY4444.js"


def test_nothing_built_is_503(dist: Path) -> None:
    response = Client().get("/widget/core.js")
    assert response.status_code == 503
    assert response["Access-Control-Allow-Origin"] == "*"


def test_pinning_to_an_unknown_build_is_refused(two_builds: Path, agent: Any) -> None:
    with pytest.raises(WidgetConfigInvalid) as refused:
        widget_draft_update(agent=agent, values={"coreVersion": "9.9.9-NOPE"})
    assert "coreVersion" in refused.value.errors
    widget_draft_update(agent=agent, values={"coreVersion": "2.0.0-OLD11111"})
    assert AuditEntry.objects.filter(action="widget.core_pinned").count() == 1


def test_the_command_registers_and_rolls_back(dist: Path, capsys: Any) -> None:
    old = build_entry(dist, "OLD11111", "2026-01-01T00:00:00Z")
    write_dist(dist, [old, build_entry(dist, "NEW22222", "2026-02-01T00:00:00Z")])
    call_command("widget_core_register", "--dist", str(dist))
    assert "Stable: 2.0.0-NEW22222 (moved)" in capsys.readouterr().out
    call_command("widget_core_register", "--dist", str(dist), "--stable", "2.0.0-OLD11111")
    assert CoreChannel.objects.get().build.version == "2.0.0-OLD11111"
    assert AuditEntry.objects.filter(action="widget.core_channel_moved").count() == 2
