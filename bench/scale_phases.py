"""The phases `bench.scale` runs against one served target, and what each one reports.

Every phase tells the load processes what to do at one shared wall-clock instant, merges
their raw figures (bench.scale_ledger), and reads what it cost the platform: the web
processes' and the rest's CPU, PostgreSQL transactions and rows written, Redis commands.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.scale_fleet import LoadFleet
from bench.scale_ledger import raw_merge, rss_per_socket_kib, usage
from bench.scale_platform import Platform
from bench.scale_stack import ScaleStack
from bench.stats import summary_ms

WALL_KEYS = ("wall_s", "sending_wall_s", "issued_wall_s", "command_wall_s")
START_DELAY_S = 0.4  # time for every load process to get its command before the start


@dataclass(frozen=True)
class Target:
    """What a phase needs: the load, the served target, the stack behind it, the figures."""

    fleet: LoadFleet
    platform: Platform
    stack: ScaleStack
    config: Any  # bench.scale.ScaleConfig

    @property
    def parts(self) -> int:
        return len(self.fleet.procs)

    @property
    def answers(self) -> bool:
        return self.platform.target == "product"  # the floor only acknowledges

    def meter(self) -> dict[str, float]:
        """Cumulative counters for `usage`: CPU, database and Redis work, and the clock."""
        cpu = self.platform.cpu()
        return {
            "web_cpu_s": cpu["web"],
            "other_cpu_s": cpu["other"],
            "web_runq_wait_s": self.platform.run_queue_wait(),
            **self.stack.service_counters(),
            "at": time.monotonic(),
        }

    def base(self) -> dict[str, Any]:
        return {"port": self.platform.port, "agent_id": self.stack.agent_id}


def _share(total: int, parts: int, number: int) -> int:
    """Part `number` of `total` split as evenly as possible into `parts`."""
    return total // parts + (1 if number < total % parts else 0)


def _walls(replies: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Replies without their wall times (which must not be summed) and the longest of each."""
    walls: dict[str, float] = {}
    stripped = []
    for reply in replies:
        stripped.append({k: v for k, v in reply.items() if k not in (*WALL_KEYS, "cpu_s")})
        for key in WALL_KEYS:
            if key in reply:
                walls[key] = max(walls.get(key, 0.0), float(reply[key]))
    return stripped, walls


def _client_cpu(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """How busy the load processes were: a process near 100 % of a core was the limit."""
    shares = [r["cpu_s"] / r["command_wall_s"] for r in replies if r.get("command_wall_s", 0) > 0]
    busiest = max(shares, default=0.0)
    return {
        "cpu_s": round(sum(r.get("cpu_s", 0.0) for r in replies), 2),
        "busiest_process_core_share": round(busiest, 2),
        "saturated": busiest >= 0.9,
    }


def _connects(raw: dict[str, Any], planned: int) -> dict[str, Any]:
    failures: dict[str, int] = raw.get("failures", {})
    return {
        "planned": planned,
        "connected": raw.get("ok", 0),
        "errors": sum(failures.values()),
        "failures": failures,
        "connect_ms": summary_ms(raw.get("connect_s", [])),
        "session_ms": summary_ms(raw.get("session_s", [])),
        "handshake_ready_ms": summary_ms(raw.get("ready_s", [])),
    }


async def settle(target: Target, cap_s: float = 20.0) -> float:
    """Wait (at most `cap_s`) until the platform used under 0.15 s of CPU in a second, so
    one phase's backlog is not measured as the next phase's cost; the seconds waited."""
    began = time.monotonic()
    before = sum(target.platform.cpu().values())
    while time.monotonic() - began < cap_s:
        await asyncio.sleep(1.0)
        after = sum(target.platform.cpu().values())
        if after - before < 0.15:
            break
        before = after
    return round(time.monotonic() - began, 1)


async def phase_warm(target: Target) -> list[dict[str, Any]]:
    """Unmeasured: imports, pools and caches in every web process (and the worker)."""
    config = target.config
    command = {
        "cmd": "warm",
        **target.base(),
        "sessions": 20,
        "widgets": 2 * config.web_workers,
        "answers": target.answers,
        "timeout_s": config.warm_timeout_s,
        "sources": config.sources,
    }
    replies = await target.fleet.each([command] * target.parts, config.warm_timeout_s + 40)
    return [
        {
            "connected": r["connect"]["ok"],
            "sent": r["load"].get("sent", 0),
            "acked": r["load"].get("acked", 0),
            "answered": r["load"].get("answered", 0),
        }
        for r in replies
    ]


async def phase_session(target: Target) -> dict[str, Any]:
    """`POST /api/v2/widget/session` from `session_concurrency` keep-alive clients."""
    config, parts = target.config, target.parts
    start_at = time.time() + START_DELAY_S
    commands = [
        {
            "cmd": "session",
            **target.base(),
            "requests": _share(config.session_requests, parts, n),
            "connections": _share(config.session_concurrency, parts, n),
            "cap_s": config.session_cap_s,
            "start_at": start_at,
        }
        for n in range(parts)
    ]
    before = target.meter()
    replies = await target.fleet.each(commands, config.session_cap_s + 30)
    stripped, walls = _walls(replies)
    raw = raw_merge(stripped)
    ok, wall = raw.get("ok", 0), walls.get("wall_s", 0.0)
    cost = usage(before, target.meter(), ok)
    return {
        "concurrency": config.session_concurrency,
        "ok": ok,
        "errors": raw.get("errors", 0),
        "error_kinds": raw.get("error_kinds", {}),
        "wall_s": round(wall, 3),
        "throughput_rps": round(ok / wall, 1) if wall > 0 else None,
        "latency_ms": summary_ms(raw.get("latency_s", [])),
        "web_cpu_ms_per_request": cost["per_unit"].get("web_cpu_ms"),
        "usage": cost,
        "client": _client_cpu(replies),
    }


async def phase_sockets(target: Target) -> dict[str, Any]:
    """N widgets connect and stay; RSS before and after, per socket held."""
    config, parts, platform = target.config, target.parts, target.platform
    rss_before = platform.rss_by_pid()
    start_at = time.time() + START_DELAY_S
    commands = [
        {
            "cmd": "connect",
            **target.base(),
            "indices": list(range(n, config.sockets, parts)),
            "concurrency": max(1, config.connect_concurrency // parts),
            "cap_s": config.connect_cap_s,
            "sources": config.sources,
            "start_at": start_at,
        }
        for n in range(parts)
    ]
    before = target.meter()
    replies = await target.fleet.each(commands, config.connect_cap_s + 60)
    stripped, walls = _walls(replies)
    summary = _connects(raw_merge(stripped), config.sockets)
    cost = usage(before, target.meter(), summary["connected"])
    await asyncio.sleep(config.idle_s)
    rss_after = platform.rss_by_pid()
    held = platform.sockets_by_pid()
    return {
        **summary,
        "wall_s": round(walls.get("wall_s", 0.0), 3),
        "rss_per_socket_kib": rss_per_socket_kib(rss_before, rss_after, held),
        "web_processes": [
            {
                "pid": pid,
                "rss_before_kib": rss_before.get(pid),
                "rss_after_kib": rss_after.get(pid),
                "sockets": held.get(pid, 0),
            }
            for pid in sorted(rss_after)
        ],
        "web_cpu_ms_per_connect": cost["per_unit"].get("web_cpu_ms"),
        "usage": cost,
        "client": _client_cpu(replies),
    }


async def phase_storm(target: Target) -> dict[str, Any]:
    """A connect started every 1/storm_rate s for storm_seconds, beside the N held."""
    config, parts = target.config, target.parts
    start_at = time.time() + START_DELAY_S
    commands = [
        {
            "cmd": "storm",
            **target.base(),
            "rate": config.storm_rate / parts,
            "offset_s": n / config.storm_rate,  # the processes' connects interleave
            "seconds": config.storm_seconds,
            "hold_s": config.storm_hold_s,
            "index_base": config.sockets + n,
            "sources": config.sources,
            "start_at": start_at,
        }
        for n in range(parts)
    ]
    before = target.meter()
    replies = await target.fleet.each(commands, config.storm_seconds + config.storm_hold_s + 60)
    stripped, walls = _walls(replies)
    raw = raw_merge(stripped)
    attempted = raw.get("attempted", 0)
    issued = walls.get("issued_wall_s", 0.0)
    summary = _connects(raw, attempted)
    cost = usage(before, target.meter(), summary["connected"])
    return {
        **summary,
        "attempted": attempted,
        "rate": config.storm_rate,
        "achieved_rate": round(attempted / issued, 1) if issued > 0 else None,
        "alive_after_hold": raw.get("alive_after_hold", 0),
        "held_beside": config.sockets,
        "usage": cost,
        "client": _client_cpu(replies),
    }


async def phase_load(target: Target) -> dict[str, Any]:
    """`rate` messages a second over the N sockets for `duration_s`, then the drain."""
    config = target.config
    command = {
        "cmd": "load",
        "rate": config.rate,
        "sockets": config.sockets,
        "duration_s": config.duration_s,
        "drain_s": config.drain_s,
        "answers": target.answers,
        "start_at": time.time() + START_DELAY_S,
    }
    before = target.meter()
    replies = await target.fleet.each(
        [command] * target.parts, config.duration_s + config.drain_s + 60
    )
    await asyncio.sleep(1.0)  # PostgreSQL publishes a backend's counts once it is idle
    stripped, walls = _walls(replies)
    raw = raw_merge(stripped)
    sent, acked, answered = raw.get("sent", 0), raw.get("acked", 0), raw.get("answered", 0)
    cost = usage(before, target.meter(), sent)
    sending = walls.get("sending_wall_s", 0.0)
    web_s, other_s = cost.get("web_cpu_s", 0.0), cost.get("other_cpu_s", 0.0)
    return {
        "offered_rate": config.rate,
        "sent_rate": round(sent / sending, 1) if sending > 0 else None,
        "sent": sent,
        "acked": acked,
        "lost": raw.get("lost", 0),
        "duplicated": raw.get("duplicate_acks", 0) + raw.get("duplicate_deliveries", 0),
        "duplicate_acks": raw.get("duplicate_acks", 0),
        "duplicate_deliveries": raw.get("duplicate_deliveries", 0),
        "repeated_acks": raw.get("repeated_acks", 0),
        "unknown_acks": raw.get("unknown_acks", 0),
        "answered": answered if target.answers else None,
        "unanswered": raw.get("unanswered", 0) if target.answers else None,
        "extra_answers": raw.get("extra_answers", 0),
        "answered_before_sent": raw.get("answered_before_sent", 0),
        "deltas": raw.get("deltas", 0),
        "error_frames": raw.get("error_frames", {}),
        "closes": raw.get("closes", {}),
        "closed_by_server": sum(raw.get("closes", {}).values()),
        "send_failures": raw.get("send_failures", 0),
        "ack_ms": summary_ms(raw.get("ack_s", [])),
        "answer_ms": summary_ms(raw.get("answer_s", [])) if target.answers else None,
        "send_lateness_ms": summary_ms(raw.get("send_lateness_s", [])),
        "duration_s": config.duration_s,
        "drain_s": config.drain_s,
        "web_cores_busy": cost.get("web_cores_busy"),
        "other_cores_busy": cost.get("other_cores_busy"),
        "web_cpu_ms_per_message": round(web_s * 1000 / acked, 2) if acked else None,
        "worker_cpu_ms_per_answer": (
            round(other_s * 1000 / answered, 2) if target.answers and answered else None
        ),
        "usage": cost,
        "client": _client_cpu(replies),
    }
