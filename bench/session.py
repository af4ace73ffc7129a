"""POST /api/v2/widget/session under concurrent clients: latency and throughput."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.httpclient import HttpConnection, HttpResponse
from bench.stats import summary_ms

SESSION_PATH = "/api/v2/widget/session"
# The demo agent allows the hosts localhost and 127.0.0.1 on any port; this is a header only.
ORIGIN = "http://127.0.0.1:8080"
REQUEST_TIMEOUT_S = 10.0


# The session path's budget against the floor (issue 14): a trivial DRF POST served by the
# same server, same middleware, in the same run.
FLOOR_SHARE_BUDGET = 0.60
P99_BUDGET_MS = 25.0


@dataclass(frozen=True)
class SessionConfig:
    requests: int = 1000
    concurrency: int = 32  # the budget's figure (p99 at 32 concurrent clients)
    cap_s: float = 60.0
    warmup: int = 20
    floor: bool = True  # also measure the floor (bench.floor), same server, same load
    # Open loop: requests start at this total rate (0: each client sends as fast as it is
    # answered). Latency then counts from the scheduled start, so queueing shows.
    rate: float = 0.0


def session_body(agent_id: str) -> bytes:
    return json.dumps({"agentId": agent_id, "url": f"{ORIGIN}/bench"}).encode()


def session_headers() -> dict[str, str]:
    return {"Content-Type": "application/json", "Origin": ORIGIN, "Accept": "application/json"}


def session_ok(response: HttpResponse) -> bool:
    if response.status != 200:
        return False
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and bool(data.get("token")) and bool(data.get("visitorId"))


async def create_session(conn: HttpConnection, agent_id: str) -> dict[str, Any]:
    """One session for a websocket client; raises when the API refuses."""
    response = await conn.request("POST", SESSION_PATH, session_body(agent_id), session_headers())
    if not session_ok(response):
        raise RuntimeError(f"session HTTP {response.status}: {response.body[:200]!r}")
    data: dict[str, Any] = response.json()
    return data


async def run_session(port: int, agent_id: str, config: SessionConfig) -> dict[str, Any]:
    body, headers = session_body(agent_id), session_headers()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    issued = 0
    paced_from = 0.0

    async def worker(measure: bool, quota: int, deadline: float) -> None:
        nonlocal issued

        def failed(kind: str) -> None:
            if measure:
                errors[kind] += 1

        conn = HttpConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        try:
            while issued < quota and time.monotonic() < deadline:
                issued += 1
                started = time.perf_counter()
                if measure and config.rate:
                    started = paced_from + (issued - 1) / config.rate
                    await asyncio.sleep(max(0.0, started - time.perf_counter()))
                try:
                    response = await conn.request("POST", SESSION_PATH, body, headers)
                except TimeoutError:  # before OSError, of which it is a subclass
                    failed("timeout")
                    continue
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                    failed(type(exc).__name__)
                    continue
                elapsed = time.perf_counter() - started
                if not measure:
                    continue
                if session_ok(response):
                    latencies.append(elapsed)
                else:
                    failed(f"HTTP {response.status}")
        finally:
            await conn.close()

    # Warm-up (not measured): lazy imports, connection set-up, caches.
    issued = 0
    warm_deadline = time.monotonic() + 20
    await asyncio.gather(*(worker(False, config.warmup, warm_deadline) for _ in range(5)))
    issued = 0
    started = paced_from = time.perf_counter()
    deadline = time.monotonic() + config.cap_s
    await asyncio.gather(
        *(worker(True, config.requests, deadline) for _ in range(config.concurrency))
    )
    return _session_figures(config, latencies, errors, time.perf_counter() - started)


def _session_figures(
    config: SessionConfig, latencies: list[float], errors: Counter[str], wall: float
) -> dict[str, Any]:
    """What a measured run of session requests did: counts, throughput and latency."""
    ok = len(latencies)
    return {
        "requests_planned": config.requests,
        "requests_done": ok + sum(errors.values()),
        "concurrency": config.concurrency,
        "offered_rps": config.rate or None,
        "capped": ok + sum(errors.values()) < config.requests,
        "ok": ok,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "wall_s": round(wall, 3),
        "throughput_rps": round(ok / wall, 1) if wall > 0 else None,
        "latency_ms": summary_ms(latencies),
    }


def _cpu_ms_per_request(result: dict[str, Any]) -> float | None:
    cpu, ok = result.get("server_cpu_s"), result.get("ok")
    return round(cpu * 1000 / ok, 3) if isinstance(cpu, int | float) and ok else None


def session_vs_floor(session: dict[str, Any]) -> dict[str, Any]:
    """The session's throughput as a share of the floor's, and its p99, against the budget;
    server CPU per request too (steadier than throughput on a shared machine)."""
    floor = session.get("floor") or {}
    ours, theirs = session.get("throughput_rps"), floor.get("throughput_rps")
    p99 = (session.get("latency_ms") or {}).get("p99")
    share = round(ours / theirs, 3) if ours and theirs else None
    return {
        "server_cpu_ms_per_request": _cpu_ms_per_request(session),
        "floor_server_cpu_ms_per_request": _cpu_ms_per_request(floor),
        "throughput_share": share,
        "share_budget": FLOOR_SHARE_BUDGET,
        "p99_ms": p99,
        "p99_budget_ms": P99_BUDGET_MS,
        "floor_p99_ms": (floor.get("latency_ms") or {}).get("p99"),
        "pass": share is not None
        and share >= FLOOR_SHARE_BUDGET
        and p99 is not None
        and p99 <= P99_BUDGET_MS,
    }
