"""`python -m bench --only topology`: the serving shapes `make serve` could run, measured.

Each shape runs 2 web processes on one public port, in services mode (PostgreSQL + Redis,
its own database and Redis db, `RATE_LIMITS_ENABLED=false`), one shape at a time and in
rounds, so the machine's other load falls on all of them alike. For each: a trivial DRF
POST behind the same middleware (bench.floor, at the session's path) and the real
`POST /api/v2/widget/session`, driven by wrk (a separate process, loopback only) with 32
connections: requests/s, p50/p99, and the web processes' CPU per request — the figure
least moved by whatever else the 2 cores are doing. A shape whose server is not installed
is skipped and says so. The shapes are in bench.topology_shapes, the load generator in
bench.topology_wrk, the medians and the table in bench.topology_report.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import BenchSetupError, Proc, free_port, wait_healthy
from bench.stack import FLOOR_SETTINGS, Stack
from bench.stats import load_average
from bench.topology_report import median_rounds, session_vs_floor_ratio
from bench.topology_shapes import TOPOLOGIES, WEB_WORKERS, Topology, missing_needs
from bench.topology_wrk import CONNECTIONS, WRK_SCRIPT, run_wrk


@dataclass(frozen=True)
class TopologyConfig:
    rounds: int = 2
    duration_s: int = 8
    warmup_s: int = 2


def say(message: str) -> None:
    print(f"[bench] topology: {message}", file=sys.stderr, flush=True)


def run_topology(config: TopologyConfig) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if not wrk:
        return {"error": "wrk is not installed (Debian: apt-get install -y wrk)", "ok": False}
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        return {"error": "needs DATABASE_URL and REDIS_URL (services mode)", "ok": False}
    stack = Stack.create()
    stack.env["RATE_LIMITS_ENABLED"] = "false"  # the load itself, as CONTRACT.md allows
    script = stack.workdir / "post.lua"
    script.write_text(WRK_SCRIPT)
    results: dict[str, dict[str, Any]] = {}
    try:
        stack.acquire()
        say("migrating and seeding the demo workspace")
        stack.prepare_app(worker=False)
        runnable = []
        for topology in TOPOLOGIES:
            missing = missing_needs(topology)
            results[topology.name] = {
                "description": topology.description,
                "websockets": topology.websockets,
                "rounds": [],
                **({"skipped": f"not installed: {', '.join(missing)}"} if missing else {}),
            }
            if not missing:
                runnable.append(topology)
        for number in range(config.rounds):
            for topology in runnable if number % 2 == 0 else list(reversed(runnable)):
                say(f"round {number + 1}/{config.rounds}: {topology.name}")
                results[topology.name]["rounds"].append(
                    _measure_shape(stack, topology, config, wrk, script)
                )
    finally:
        problems = stack.close()
    for entry in results.values():
        for kind in ("floor", "session"):
            entry[kind] = median_rounds([r.get(kind) for r in entry["rounds"]])
        entry["session_vs_floor"] = session_vs_floor_ratio(entry["session"], entry["floor"])
    return {
        "config": {
            "web_processes": WEB_WORKERS,
            "connections": CONNECTIONS,
            "rounds": config.rounds,
            "duration_s": config.duration_s,
            "warmup_s": config.warmup_s,
            "load_generator": "wrk -t1 -c32, one process, loopback",
            "mode": stack.description,
        },
        "topologies": results,
        "cleanup_problems": problems,
        "ok": not problems,
    }


def _measure_shape(
    stack: Stack, topology: Topology, config: TopologyConfig, wrk: str, script: Path
) -> dict[str, Any]:
    """Floor and product each served in this shape, one after the other; then stopped."""
    measured: dict[str, Any] = {"load_average_before": load_average()}
    for kind, env in (("floor", {"DJANGO_SETTINGS_MODULE": FLOOR_SETTINGS}), ("session", {})):
        port = free_port()
        workdir = stack.workdir / f"{kind}-{time.monotonic_ns()}"
        workdir.mkdir()
        procs = [
            _start(stack, f"{kind}-{name}", argv, {**stack.env, **env}, workdir)
            for name, argv in topology.commands(port, workdir)
        ]
        try:
            startup = wait_healthy(procs[-1], port, timeout=120)
            run_wrk(wrk, script, port, config.warmup_s, stack.agent_id)
            cpu_before = _group_cpu([p.pgid for p in procs])
            result = run_wrk(wrk, script, port, config.duration_s, stack.agent_id)
            cpu = _group_cpu([p.pgid for p in procs]) - cpu_before
            result["startup_s"] = round(startup, 1)
            result["server_cpu_s"] = round(cpu, 2)
            done = result["requests"]
            result["cpu_ms_per_request"] = round(1000 * cpu / done, 2) if done else None
            result["argv"] = [[_short(a) for a in p.argv] for p in procs]
            result["log_problems"] = [line for p in procs for line in p.log_problems()][:10]
            measured[kind] = result
        except BenchSetupError as exc:
            measured[kind] = {"error": str(exc)[:2000]}
        finally:
            for proc in reversed(procs):
                proc.stop()
    return measured


def _start(stack: Stack, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> Proc:
    proc = Proc(name, argv, env, workdir / f"{name}.log")
    stack.started_pgids.append(proc.pgid)
    return proc


def _group_cpu(pgids: list[int]) -> float:
    """User + system CPU seconds of every live process in these process groups."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) in pgids:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _short(arg: str) -> str:
    return arg.rsplit("/", 1)[-1] if arg.startswith("/") else arg
