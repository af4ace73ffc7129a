"""Widget code releases: every build of the core, the stable channel, per-agent pins.

The front-end build (frontend/build.mjs) keeps every core it ever made as an immutable,
content-hashed file and lists them in `dist/releases.json` (version, sha384 integrity,
sizes, and the versioned loader built with each). `manage.py widget_core_register` copies
that list into `CoreBuild` rows and, when the build is new, moves the "stable" channel to
it. `GET /widget/core.js?agent=…` (widgets.api.core) redirects each agent to its build:
the pinned version (`WidgetConfig.core_version`) or stable. Moving stable back to an
earlier build is the global rollback (superusers only, audited).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.db import transaction

from core.errors import ApiError, InvalidRequest
from security.audit import audit_record
from widgets.models import CoreBuild, CoreChannel

logger = logging.getLogger("customeragent.widgets")

TARGETS_KEY = "widget:core:targets"
TARGETS_CACHE_SECONDS = 60
STATIC_PREFIX = "static/"  # dist-relative paths in the build's files start with it
STABLE = CoreChannel.Name.STABLE


class CoreChannelForbidden(ApiError):
    status = 403
    code = "forbidden"
    default_message = "Only superusers may move the stable channel: it moves every agent."


@dataclass(frozen=True)
class CoreTarget:
    """Where an agent's core is: a static name ("widget/core.X.js") and its integrity."""

    version: str
    path: str
    integrity: str


@dataclass(frozen=True)
class BuildFile:
    """One entry of dist/releases.json."""

    version: str
    path: str
    integrity: str
    loader_path: str = ""
    loader_integrity: str = ""
    size_raw: int = 0
    size_gzip: int = 0
    built_at: datetime | None = None


@dataclass
class RegisterResult:
    added: list[str] = field(default_factory=list)
    current: str | None = None
    stable: str | None = None
    stable_moved: bool = False
    missing_files: list[str] = field(default_factory=list)


# --- The build's files -----------------------------------------------------------------


def _static_name(dist_path: str) -> str:
    return dist_path[len(STATIC_PREFIX) :] if dist_path.startswith(STATIC_PREFIX) else dist_path


def _built_at(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def dist_builds(dist: Path) -> list[BuildFile]:
    """Every build listed in dist/releases.json, oldest first; [] when there is none."""
    path = dist / "releases.json"
    if not path.is_file():
        return []
    entries = json.loads(path.read_text()).get("builds") or []
    builds = []
    for entry in entries:
        sizes = entry.get("sizes") or {}
        builds.append(
            BuildFile(
                version=str(entry["version"]),
                path=_static_name(str(entry["core"])),
                integrity=str(entry["coreIntegrity"]),
                loader_path=_static_name(str(entry.get("loader") or "")),
                loader_integrity=str(entry.get("loaderIntegrity") or ""),
                size_raw=int((sizes.get("core") or {}).get("raw") or 0),
                size_gzip=int((sizes.get("core") or {}).get("gzip") or 0),
                built_at=_built_at(entry.get("builtAt")),
            )
        )
    return builds


def dist_current(dist: Path) -> CoreTarget | None:
    """The build dist/manifest.json names (the newest one built here), if any."""
    path = dist / "manifest.json"
    if not path.is_file():
        return None
    return _manifest_target(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _manifest_target(path: str, mtime_ns: int) -> CoreTarget | None:
    manifest = json.loads(Path(path).read_text())
    if not manifest.get("core"):
        return None
    return CoreTarget(
        version=str(manifest.get("version") or ""),
        path=_static_name(str(manifest["core"])),
        integrity=str(manifest.get("integrity") or ""),
    )


_available: set[str] = set()


def asset_available(static_name: str) -> bool:
    """Whether this server can serve the static file (remembered once true: builds are
    immutable and never deleted)."""
    if static_name in _available:
        return True
    here = (settings.FRONTEND_DIST / "static" / static_name).is_file()
    if here or staticfiles_storage.exists(static_name):
        _available.add(static_name)
        return True
    return False


def core_url(static_name: str) -> str:
    """The URL of an immutable asset (under STATIC_URL, which may be a CDN)."""
    return str(staticfiles_storage.url(static_name))


# --- Registering builds and moving the channel ----------------------------------------


@transaction.atomic
def core_builds_register(*, dist: Path, promote: bool = True) -> RegisterResult:
    """Record every build of `dist` not yet known. The build the manifest names becomes
    stable when it is new here (a deploy) and `promote` is on, or when nothing is stable
    yet; re-registering a known build never moves stable (a rollback stays rolled back)."""
    result = RegisterResult()
    known = {b.version: b for b in CoreBuild.objects.select_for_update()}
    for entry in dist_builds(dist):
        existing = known.get(entry.version)
        if existing is not None:
            if existing.path != entry.path:
                raise InvalidRequest(
                    f"Build {entry.version} is registered as {existing.path}, not {entry.path}."
                )
            continue
        known[entry.version] = CoreBuild.objects.create(
            version=entry.version,
            path=entry.path,
            integrity=entry.integrity,
            loader_path=entry.loader_path,
            loader_integrity=entry.loader_integrity,
            size_raw=entry.size_raw,
            size_gzip=entry.size_gzip,
            **({"created_at": entry.built_at} if entry.built_at else {}),
        )
        result.added.append(entry.version)
    current = dist_current(dist)
    result.current = current.version if current else None
    channel = CoreChannel.objects.select_for_update().filter(name=STABLE).first()
    target = known.get(result.current or "")
    if target is not None and (channel is None or (promote and target.version in result.added)):
        channel = _channel_point(channel, target, by=None, reason="deploy")
        result.stable_moved = True
    result.stable = channel.build.version if channel else None
    result.missing_files = [v for v, b in sorted(known.items()) if not asset_available(b.path)]
    return result


@transaction.atomic
def core_channel_move(*, build: CoreBuild, by: Any, reason: str = "rollback") -> CoreChannel:
    """Point "stable" at `build`: every agent that is not pinned loads it within a minute
    or two. Superusers only (and operators at the command line, `by=None`)."""
    if by is not None and not getattr(by, "is_superuser", False):
        raise CoreChannelForbidden()
    if not asset_available(build.path):
        raise InvalidRequest(
            f"{build.path} is not on this server: stable must point at a build it can serve."
        )
    channel = CoreChannel.objects.select_for_update().filter(name=STABLE).first()
    return _channel_point(channel, build, by=by, reason=reason)


def _channel_point(
    channel: CoreChannel | None, build: CoreBuild, *, by: Any, reason: str
) -> CoreChannel:
    before = channel.build.version if channel else None
    actor = by if getattr(by, "is_authenticated", False) else None
    if channel is None:
        channel = CoreChannel.objects.create(name=STABLE, build=build, updated_by=actor)
    else:
        channel.build, channel.updated_by = build, actor
        channel.save()
    audit_record(
        action="widget.core_channel_moved",
        target=f"core channel {STABLE}",
        actor=by,
        changes={"from": before, "to": build.version, "reason": reason},
    )
    return channel


# --- Which core an agent loads ---------------------------------------------------------


def core_targets_forget() -> None:
    cache.delete(TARGETS_KEY)


def _targets() -> dict[str, Any]:
    cached = cache.get(TARGETS_KEY)
    if isinstance(cached, dict):
        return cached
    builds = {
        b.version: CoreTarget(version=b.version, path=b.path, integrity=b.integrity)
        for b in CoreBuild.objects.all()
    }
    channel = CoreChannel.objects.filter(name=STABLE).select_related("build").first()
    targets = {"builds": builds, "stable": builds.get(channel.build.version) if channel else None}
    cache.set(TARGETS_KEY, targets, TARGETS_CACHE_SECONDS)
    return targets


def core_build_pinned(version: str) -> CoreBuild | None:
    return CoreBuild.objects.filter(version=version).first() if version else None


def core_target_for(pinned_version: str = "") -> CoreTarget | None:
    """The build an agent pinned to `pinned_version` (empty: none) should load: its pin,
    else stable, else the newest build on disk (nothing registered yet, e.g. in tests). A
    build this server cannot serve falls back to the newest one, so a widget never breaks
    on a missing file."""
    targets = _targets()
    chosen: CoreTarget | None = targets["builds"].get(pinned_version) or targets["stable"]
    newest = dist_current(settings.FRONTEND_DIST)
    if chosen is not None and not asset_available(chosen.path):
        logger.warning("widget core %s is missing here; serving the newest", chosen.path)
        chosen = None
    return chosen or newest
