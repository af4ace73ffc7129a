"""Draft and publish: the widget config is a draft; live widgets show its published release.

`WidgetConfig` (with the agent's name, greeting and avatar) is the draft staff edit.
Publishing snapshots what the draft would show (`widget_draft_public_config`) as a new,
immutable `WidgetRelease` with the next version number, and points
`WidgetConfig.published_release` at it. A rollback publishes an older snapshot again as a
new version, so the history is never rewritten. Allowed domains and rate limits are
security settings and are not part of releases: they apply the moment they are saved.

The admin, the REST API, the seed and experiment promotion all call these functions.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from django.db import transaction
from django.db.models import Max, QuerySet

from agents.models import Agent
from core.errors import ApiError
from security.audit import acting_user, audit_record
from widgets.config.diff import FieldChange, config_diff
from widgets.delivery.variants import config_with_overrides
from widgets.models import WidgetConfig, WidgetRelease
from widgets.publishing.bulk import widget_document_from_public
from widgets.publishing.drafts import widget_config_locked as _locked
from widgets.publishing.drafts import widget_fields_apply
from widgets.selectors import PublicConfig, widget_draft_public_config

MAX_NOTE = 500
Against = Literal["previous", "draft", "live"] | int


class NothingToPublish(ApiError):
    status = 409
    code = "nothing_to_publish"
    default_message = "The draft is the same as the live release."


# --- Reads ---------------------------------------------------------------------------


def widget_releases(agent: Agent) -> QuerySet[WidgetRelease]:
    """The agent's releases, newest first, with who made them."""
    return (
        WidgetRelease.objects.filter(agent=agent)
        .select_related("created_by", "rollback_of")
        .order_by("-version")
    )


def widget_release_get(agent: Agent, version: int) -> WidgetRelease | None:
    return widget_releases(agent).filter(version=version).first()


def widget_live_release(agent: Agent) -> WidgetRelease | None:
    config = WidgetConfig.objects.filter(agent=agent).select_related("published_release").first()
    return config.published_release if config else None


def widget_draft_changes(agent: Agent) -> list[FieldChange]:
    """What publishing now would change for visitors (against the live release, or against
    nothing at all for an agent that never published — then everything is new)."""
    draft = widget_draft_public_config(agent)
    live = widget_live_release(agent)
    return config_diff(live.snapshot if live else {}, dict(draft))


def release_diff(release: WidgetRelease, *, against: Against = "previous") -> dict[str, Any]:
    """`{against, againstVersion, changes}`: how `release` differs from what it replaced
    (`previous`), from the draft (`draft`: what publishing would change back), from the
    live release (`live`) or from another version of the same agent."""
    base: dict[str, Any] | None
    base_version: int | None = None
    if against == "draft":
        base = dict(widget_draft_public_config(release.agent))
        changes = config_diff(release.snapshot, base)  # from this release to the draft
        return {"against": "draft", "againstVersion": None, "changes": changes}
    if against == "live":
        other = widget_live_release(release.agent)
    elif against == "previous":
        other = (
            WidgetRelease.objects.filter(agent_id=release.agent_id, version__lt=release.version)
            .order_by("-version")
            .first()
        )
    else:
        other = WidgetRelease.objects.filter(agent_id=release.agent_id, version=against).first()
    base = other.snapshot if other else {}
    base_version = other.version if other else None
    label = against if isinstance(against, str) else "version"
    return {
        "against": label,
        "againstVersion": base_version,
        "changes": config_diff(base, release.snapshot),
    }


# --- Writes --------------------------------------------------------------------------


@transaction.atomic
def widget_publish(*, agent: Agent, by: Any = None, note: str = "") -> WidgetRelease:
    """Make the draft live as the next version. NothingToPublish when the draft shows
    exactly what the live release shows."""
    agent, config = _locked(agent)
    snapshot = dict(widget_draft_public_config(agent, config))
    live = config.published_release
    if live is not None and not config_diff(live.snapshot, snapshot):
        raise NothingToPublish(f"The draft is the same as the live version (v{live.version}).")
    return _release_create(
        agent=agent, config=config, snapshot=snapshot, by=by, note=note, action="widget.published"
    )


@transaction.atomic
def widget_release_rollback(
    *, release: WidgetRelease, by: Any = None, note: str = "", restore_draft: bool = False
) -> WidgetRelease:
    """Publish an earlier release's snapshot again, as a new version. With `restore_draft`
    the draft is brought back to it too (otherwise the draft keeps its edits)."""
    agent, config = _locked(release.agent)
    live = config.published_release
    if live is not None and not config_diff(live.snapshot, release.snapshot):
        raise NothingToPublish(f"v{release.version} is what visitors already see.")
    rolled = _release_create(
        agent=agent,
        config=config,
        snapshot=copy.deepcopy(release.snapshot),
        by=by,
        note=note or f"Rollback to v{release.version}",
        action="widget.rolled_back",
        rollback_of=release,
    )
    if restore_draft:
        widget_draft_restore(release=release, by=by)
    return rolled


@transaction.atomic
def widget_release_promote(
    *, agent_id: int, overrides: dict[str, Any], by: Any = None, note: str = ""
) -> WidgetRelease | None:
    """Publish the live release with `overrides` (an experiment's winner, in the public
    config's shape) applied — not the rest of the draft, which may hold unfinished work.
    None for an agent that never published: it shows its draft, where the winner already
    was written."""
    agent, config = _locked(Agent.objects.get(pk=agent_id))
    live = config.published_release
    if live is None:
        return None
    snapshot = dict(config_with_overrides(_as_public(live.snapshot), overrides))
    if not config_diff(live.snapshot, snapshot):
        return None
    return _release_create(
        agent=agent,
        config=config,
        snapshot=snapshot,
        by=by,
        note=note or "Experiment winner promoted",
        action="widget.published",
    )


@transaction.atomic
def widget_draft_restore(*, release: WidgetRelease, by: Any = None) -> WidgetConfig:
    """Bring the draft's appearance back to a release (allowed domains, limits and the
    agent's name stay as they are). Nothing goes live until the next publish."""
    agent, config = _locked(release.agent)
    values = widget_document_from_public(release.snapshot)
    widget_fields_apply(agent=agent, config=config, values=values)
    audit_record(
        action="widget.draft_restored",
        target=agent.public_id,
        actor=by,
        workspace_id=agent.workspace_id,
        changes={"fromVersion": release.version},
    )
    return config


def _as_public(snapshot: dict[str, Any]) -> PublicConfig:
    return copy.deepcopy(snapshot)  # type: ignore[return-value]


def _release_create(
    *,
    agent: Agent,
    config: WidgetConfig,
    snapshot: dict[str, Any],
    by: Any,
    note: str,
    action: str,
    rollback_of: WidgetRelease | None = None,
) -> WidgetRelease:
    previous = config.published_release
    latest = WidgetRelease.objects.filter(agent=agent).aggregate(top=Max("version"))["top"]
    release = WidgetRelease.objects.create(
        agent=agent,
        version=(latest or 0) + 1,
        snapshot=snapshot,
        note=note.strip()[:MAX_NOTE],
        rollback_of=rollback_of,
        created_by=acting_user(by),
    )
    config.published_release = release
    # A save (not an update) so the cache receivers in widgets.signals run.
    config.save(update_fields=["published_release"])
    changes = config_diff(previous.snapshot if previous else {}, snapshot)
    audit_record(
        action=action,
        target=agent.public_id,
        actor=by,
        workspace_id=agent.workspace_id,
        changes={
            "version": release.version,
            "fromVersion": previous.version if previous else None,
            "note": release.note,
            "changes": [change["text"] for change in changes],
        },
    )
    return release
