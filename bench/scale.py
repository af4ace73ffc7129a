"""`make bench-scale`: the platform under widget-shaped load, against its floor, same run.

On its own database and Redis (bench.scale_stack), it serves the floor (bench.floor: a
trivial DRF POST at the session's path, an ack-only consumer at the widget socket's path)
and then the product, each in the production shape (bench.scale_serve), and drives both
with the same load from `load_procs` separate processes (bench.scale_load), one phase after
another:

1. warm-up (unmeasured): sessions, and a few widgets asking one question each;
2. *session*: `POST /api/v2/widget/session` from 32 keep-alive clients;
3. *sockets*: N widgets connect (session, handshake, `session.ready`) and stay; the web
   processes' RSS before and after, divided by the sockets each holds;
4. *load*: each widget asks a question every N/rate s for `duration_s` (open loop: the
   fleet offers `rate` messages a second whatever the answers do), then up to `drain_s`
   for the last acks and answers: send→ack and send→answer, lost, duplicated, unanswered;
5. *storm*: a connect started every 1/storm_rate s for `storm_seconds`, beside the N.

Everything is bounded in count and time and torn down at the end, also on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from bench.procs import BenchSetupError
from bench.scale_fleet import LoadFleet, PhaseError, kill_group
from bench.scale_ledger import scale_goals
from bench.scale_load import raise_fd_limit
from bench.scale_phases import (
    Target,
    phase_load,
    phase_session,
    phase_sockets,
    phase_storm,
    phase_warm,
    settle,
)
from bench.scale_serve import git_revision, platform_start
from bench.scale_stack import ScaleStack
from bench.stats import load_average


@dataclass(frozen=True)
class ScaleConfig:
    sockets: int = 1000
    rate: float = 100.0  # messages per second offered by the whole fleet
    duration_s: float = 60.0
    drain_s: float = 15.0
    session_requests: int = 5000
    session_concurrency: int = 32
    session_cap_s: float = 20.0
    connect_concurrency: int = 50
    connect_cap_s: float = 120.0
    idle_s: float = 3.0  # connected and quiet before the RSS is read
    warm_timeout_s: float = 40.0  # the first answers wait for the worker's imports
    storm_rate: float = 200.0
    storm_seconds: float = 5.0
    storm_hold_s: float = 2.0
    load_procs: int = 2
    sources: int = 4  # client addresses 127.0.0.2 ... 127.0.0.(sources+1)
    web_workers: int = 2
    celery_workers: int = 1


QUICK = ScaleConfig(
    sockets=100,
    duration_s=10,
    drain_s=5,
    warm_timeout_s=20,
    session_requests=1000,
    session_cap_s=8,
    storm_seconds=2,
)


def scale_config(
    *, quick: bool = False, overrides: dict[str, Any] | None = None, environ: Any = os.environ
) -> ScaleConfig:
    """The run's figures: quick or full, then WEB_WORKERS/CELERY_WORKERS, then options."""
    config = QUICK if quick else ScaleConfig()
    shape = {
        "web_workers": int(environ.get("WEB_WORKERS") or config.web_workers),
        "celery_workers": int(environ.get("CELERY_WORKERS") or config.celery_workers),
    }
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return replace(config, **shape, **given)


def say(message: str) -> None:
    print(f"[bench-scale] {message}", file=sys.stderr, flush=True)


async def _measure(stack: ScaleStack, name: str, config: ScaleConfig) -> dict[str, Any]:
    """Serve one target, run every phase against it, stop it."""
    say(f"{name}: starting ({config.web_workers} web processes)")
    platform = await platform_start(
        stack, target=name, web_workers=config.web_workers, celery_workers=config.celery_workers
    )
    result: dict[str, Any] = {
        "shape": platform.shape,
        "argv": platform.argv,
        "startup_s": platform.startup_s,
        "web_pids": platform.web_pids(),
        "load_average_before": load_average(),
    }
    try:
        lifetime = 400 + config.session_cap_s + config.connect_cap_s + config.duration_s
        fleet = await LoadFleet.start(config.load_procs, stack.workdir, lifetime)
        try:
            await _phases(Target(fleet, platform, stack, config), result)
        finally:
            await fleet.stop()
    finally:
        result["alive_after"] = platform.alive()
        result["load_average_after"] = load_average()
        result["log_problems"] = platform.log_problems()
        platform.stop()
    return result


async def _phases(target: Target, result: dict[str, Any]) -> None:
    """Each phase in turn, on a quiet platform; a failed phase ends the target's run."""
    config, name = target.config, target.platform.target
    phases: list[tuple[str, str, Any]] = [
        ("warm_up", "warm-up", phase_warm),
        (
            "session",
            f"session x{config.session_requests} at {config.session_concurrency}",
            phase_session,
        ),
        ("sockets", f"connecting {config.sockets} widgets", phase_sockets),
        (
            "storm",
            f"connect storm {config.storm_rate:g}/s for {config.storm_seconds:g}s",
            phase_storm,
        ),
        ("load", f"{config.rate:g} messages/s for {config.duration_s:g}s", phase_load),
    ]
    result["phase_s"], result["settle_s"] = {}, {}
    for key, description, run in phases:
        if key != "warm_up":  # a phase's backlog is not the next phase's cost
            result["settle_s"][key] = await settle(target)
        say(f"{name}: {description}")
        began = time.monotonic()
        try:
            result[key] = await run(target)
        except PhaseError as exc:
            say(f"{name}: {key} failed: {exc}")
            result["error"] = f"{key}: {exc}"
            return
        finally:
            result["phase_s"][key] = round(time.monotonic() - began, 1)
    await target.fleet.each([{"cmd": "close"}] * target.parts, 60)


def _ratios(product: dict[str, Any], floor: dict[str, Any]) -> dict[str, float | None]:
    def get(result: dict[str, Any], *path: str) -> Any:
        value: Any = result
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def ratio(*path: str) -> float | None:
        ours, theirs = get(product, *path), get(floor, *path)
        if isinstance(ours, int | float) and isinstance(theirs, int | float) and theirs:
            return round(ours / theirs, 3)
        return None

    return {
        "session_throughput": ratio("session", "throughput_rps"),
        "session_p99": ratio("session", "latency_ms", "p99"),
        "connect_p99": ratio("sockets", "connect_ms", "p99"),
        "rss_per_socket": ratio("sockets", "rss_per_socket_kib"),
        "ack_p50": ratio("load", "ack_ms", "p50"),
        "ack_p99": ratio("load", "ack_ms", "p99"),
        "storm_connect_p99": ratio("storm", "connect_ms", "p99"),
    }


async def _run(stack: ScaleStack, config: ScaleConfig) -> dict[str, Any]:
    targets = {}
    for target in ("floor", "product"):
        targets[target] = await _measure(stack, target, config)
    return targets


def run_scale(config: ScaleConfig) -> dict[str, Any]:
    """Everything `make bench-scale` measures, as the JSON it writes."""
    fd_limit = raise_fd_limit()  # inherited by the servers: thousands of sockets each
    started = time.monotonic()
    payload: dict[str, Any] = {
        "config": asdict(config),
        "revision": git_revision(),
        "fd_limit": fd_limit,
    }
    stack: ScaleStack | None = None
    try:
        stack = ScaleStack.create()
        say("creating the database and starting Redis")
        stack.acquire()
        say("migrating and seeding the demo workspace")
        stack.prepare_app()
        payload["tuning_env"] = stack.tuning
        payload.update(asyncio.run(_run(stack, config)))
    except BenchSetupError as exc:
        say(f"setup failed: {exc}")
        payload["setup_error"] = str(exc)
    finally:
        for pgid in list(LoadFleet.live_pgids):
            kill_group(pgid)
        if stack is not None:
            payload["cleanup_problems"] = stack.close()
    product, floor = payload.get("product", {}), payload.get("floor", {})
    payload["ratios"] = _ratios(product, floor)
    payload["goals"] = [asdict(g) for g in scale_goals(product, payload["ratios"])]
    payload["wall_s"] = round(time.monotonic() - started, 1)
    return payload


def scale_status(payload: dict[str, Any]) -> int:
    """0 when every goal holds, 1 when one is missed, 2 when set-up or clean-up failed."""
    if payload.get("setup_error") or payload.get("cleanup_problems"):
        return 2
    if any("error" in payload.get(t, {}) for t in ("product", "floor")):
        return 2
    return 0 if all(g["passed"] for g in payload["goals"]) else 1
