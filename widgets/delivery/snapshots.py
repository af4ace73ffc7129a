"""One agent's public widget, compiled once per process and change: the widget snapshot.

Every public widget request asks the same things about its agent — is it active, which
origins may embed it, its rate limits, whether it wants verified customers, the published
config, the running experiment. Staff change them rarely, visitors ask on every page view,
so each process compiles them once into a `WidgetSnapshot`, kept in memory and tagged
with the agent's stamp (security.stamps). Every write that changes any of it replaces the
stamp (widgets.signals → `widget_snapshot_invalidate`), and every request compares the
stamp in the same Redis round trip that counts its rate limits (`widget_gate`), so a
removed domain or a switched-off agent refuses the very next session in every process.

`widget_snapshot(agent_public_id)` is the selector for everyone else (the websocket's
admission, events, the public config): one stamp read, no query while nothing changed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.cache import cache

from agents.models import Agent
from security.blocks import IpBlockList, ip_blocks_current, ip_blocks_held
from security.domains import DomainPattern, parse_origin, parse_pattern, pattern_matches
from security.ratelimit import ANY_STAMP, Checked, Limit, OneTimeUse, rate_limits_checked
from security.stamps import IP_BLOCKS, MISSING, stamp_bump, stamp_ensure, stamps_read
from widgets.delivery.public_config import PublicConfig, public_config_of
from widgets.delivery.variants import LiveExperiment, live_experiments_load

# Safety nets only (every change replaces the stamp). An unknown id is remembered for
# less long: were its agent created and Redis then emptied, it would answer 404 until then.
MAX_AGE_SECONDS = 300
UNKNOWN_MAX_AGE_SECONDS = 30
MAX_AGENTS = 20_000
MAX_UNKNOWN = 2_000
ALL_PATTERNS_KEY = "widget:allowed:all"  # the CORS preflight's list (widgets.selectors)
NEVER = "?"  # an expectation no stamp meets: "I hold nothing, tell me what is there"


def agent_stamp(agent_public_id: str) -> str:
    return f"agent:{agent_public_id}"


@dataclass(frozen=True)
class WidgetSnapshot:
    """An active agent's public widget: who may embed it, its limits and what it shows.

    Shared by every request of the process: treat it, and `config`, as read-only (copy
    before changing, as `config_with_overrides` does).
    """

    pk: int
    public_id: str
    workspace_id: int
    allowed_domains: list[str]
    rate_limits: dict[str, int]
    identity_required: bool
    core_version: str  # the pinned widget build; empty follows the stable channel
    config: PublicConfig  # the published config (no per-visitor variant applied)
    experiments: tuple[LiveExperiment, ...]  # running, with variants, weights, overrides
    stamp: str
    patterns: tuple[DomainPattern, ...] = field(default=(), repr=False)

    def allows(self, origin: str | None) -> bool:
        """Whether `origin` may embed this widget (its allowed domains)."""
        parsed = parse_origin(origin)
        return parsed is not None and any(pattern_matches(p, parsed) for p in self.patterns)


@dataclass(frozen=True)
class _Entry:
    stamp: str
    snapshot: WidgetSnapshot | None  # None: no active agent has this id
    compiled_at: float

    def fresh(self) -> bool:
        limit = UNKNOWN_MAX_AGE_SECONDS if self.snapshot is None else MAX_AGE_SECONDS
        return time.monotonic() - self.compiled_at <= limit


class SnapshotCache:
    """A process's compiled snapshots, least recently used dropped first; unknown ids are
    kept apart so that requests for made-up ids cannot push real agents out."""

    def __init__(self, max_agents: int = MAX_AGENTS, max_unknown: int = MAX_UNKNOWN) -> None:
        self._lock = threading.Lock()
        self._known: OrderedDict[str, _Entry] = OrderedDict()
        self._unknown: OrderedDict[str, _Entry] = OrderedDict()
        self._max_agents, self._max_unknown = max_agents, max_unknown

    def get(self, agent_public_id: str) -> _Entry | None:
        with self._lock:
            for entries in (self._known, self._unknown):
                entry = entries.get(agent_public_id)
                if entry is not None:
                    if not entry.fresh():
                        del entries[agent_public_id]
                        return None
                    entries.move_to_end(agent_public_id)
                    return entry
        return None

    def put(self, agent_public_id: str, entry: _Entry) -> None:
        with self._lock:
            self._known.pop(agent_public_id, None)
            self._unknown.pop(agent_public_id, None)
            if entry.snapshot is not None:
                entries, limit = self._known, self._max_agents
            else:
                entries, limit = self._unknown, self._max_unknown
            entries[agent_public_id] = entry
            while len(entries) > limit:
                entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._known.clear()
            self._unknown.clear()


_process_cache = SnapshotCache()


def _load(agent_public_id: str, *, stamp: str) -> WidgetSnapshot | None:
    agent = (
        Agent.objects.filter(public_id=agent_public_id, is_active=True)
        .select_related("widget_config__published_release")
        .first()
    )
    if agent is None:
        return None
    config = getattr(agent, "widget_config", None)
    domains = list(config.allowed_domains) if config else []
    return WidgetSnapshot(
        pk=agent.pk,
        public_id=agent.public_id,
        workspace_id=agent.workspace_id,
        allowed_domains=domains,
        rate_limits=dict(config.rate_limits or {}) if config else {},
        identity_required=agent.identity_required,
        core_version=config.core_version if config else "",
        config=public_config_of(agent, config),
        experiments=live_experiments_load(agent.pk),
        stamp=stamp,
        patterns=tuple(p for p in map(parse_pattern, domains) if p is not None),
    )


def widget_snapshot_compile(
    agent_public_id: str, *, observed_stamp: str, into: SnapshotCache | None = None
) -> WidgetSnapshot | None:
    """Read the agent from the database now and keep it, tagged with the stamp that was
    read before (a change after that read replaces the stamp, so it is noticed)."""
    name = agent_stamp(agent_public_id)
    snapshot = _load(agent_public_id, stamp=observed_stamp)
    stamp = observed_stamp
    if snapshot is not None and observed_stamp == MISSING:
        # Never tag a real agent with MISSING (Redis lost the stamp): give it one, and read
        # again, since a change may have landed between that first read and the stamp.
        stamp = stamp_ensure(name)
        snapshot = _load(agent_public_id, stamp=stamp)
    (into or _process_cache).put(agent_public_id, _Entry(stamp, snapshot, time.monotonic()))
    return snapshot


def _held_stamp(entry: _Entry | None) -> str:
    return entry.stamp if entry is not None else NEVER


def widget_snapshot(
    agent_public_id: str, *, store: SnapshotCache | None = None
) -> WidgetSnapshot | None:
    """The active agent's snapshot, or None when no active agent has this id: one stamp
    read in Redis, and no query unless it changed."""
    held = (store or _process_cache).get(agent_public_id)
    [stamp] = stamps_read([agent_stamp(agent_public_id)])
    if held is not None and held.stamp == stamp:
        return held.snapshot
    return widget_snapshot_compile(agent_public_id, observed_stamp=stamp, into=store)


def widget_snapshot_invalidate(agent_public_id: str) -> None:
    """The agent's widget changed (domains, activity, identity mode, limits, the published
    config, an experiment, the core pin): every process recompiles on its next request."""
    stamp_bump(agent_stamp(agent_public_id))
    cache.delete(ALL_PATTERNS_KEY)


def widget_snapshots_drop_local() -> None:
    """Forget this process's compiled snapshots (tests)."""
    _process_cache.clear()


# --- The gate: snapshot, IP blocks and rate limits in one Redis round trip -------------


@dataclass(frozen=True)
class Gate:
    """What one request learnt in its one round trip: the agent's current snapshot (None:
    no active agent with this id), the current IP block list, and the counted limits."""

    snapshot: WidgetSnapshot | None
    blocks: IpBlockList
    checked: Checked


@dataclass(frozen=True)
class GateAsks:
    """What a request counts (limits, in order) and spends (a one-time token)."""

    hits: Sequence[tuple[Limit, str]] = ()
    once: OneTimeUse | None = None


AsksFor = Callable[[WidgetSnapshot | None, IpBlockList], GateAsks]


def widget_gate(
    *,
    agent_public_id: str | None,
    asks_for: AsksFor,
    store: SnapshotCache | None = None,
) -> Gate:
    """Check the stamps of the agent's snapshot and of the IP block list, count the limits
    and spend the token `asks_for` names — one Redis round trip.

    `asks_for` decides from the snapshot and the blocks what to count and spend (a blocked
    address counts nothing; an origin the agent does not allow does not use up the
    agent's per-site limit). When a stamp changed, what changed is recompiled from the
    database and only then counted: the data is at least as new as the request.
    """
    entry = (store or _process_cache).get(agent_public_id) if agent_public_id else None
    blocks = ip_blocks_held()
    stamps = [(IP_BLOCKS, blocks.stamp if blocks else NEVER)]
    if agent_public_id:
        stamps.append((agent_stamp(agent_public_id), _held_stamp(entry)))
    if blocks is not None and (entry is not None or not agent_public_id):
        snapshot = entry.snapshot if entry else None
        asks = asks_for(snapshot, blocks)
        checked = rate_limits_checked(stamps=stamps, hits=asks.hits, once=asks.once)
        if checked.current:
            return Gate(snapshot=snapshot, blocks=blocks, checked=checked)
        now = checked.stamps
    else:  # nothing held yet: read what is there, compile, then count
        now = stamps_read([name for name, _ in stamps])
    blocks = ip_blocks_current(now[0])
    snapshot = entry.snapshot if entry else None
    if agent_public_id and (entry is None or entry.stamp != now[1]):
        snapshot = widget_snapshot_compile(agent_public_id, observed_stamp=now[1], into=store)
    asks = asks_for(snapshot, blocks)
    checked = rate_limits_checked(
        stamps=[(name, ANY_STAMP) for name, _ in stamps], hits=asks.hits, once=asks.once
    )
    return Gate(snapshot=snapshot, blocks=blocks, checked=checked)
