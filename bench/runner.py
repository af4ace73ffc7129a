"""Runs the selected benchmarks against each ASGI server in turn and collects results."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.procs import BenchSetupError, Proc, cpu_seconds
from bench.session import SessionConfig, run_session, session_vs_floor
from bench.stack import Stack
from bench.stats import load_average
from bench.ws import WsConfig, run_ws, warm_up

MAX_LOG_LINES = 20


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Plan:
    benchmarks: list[str]
    servers: list[str]
    session: SessionConfig
    websocket: WsConfig


@dataclass
class ServerRuns:
    mode: str
    mode_description: str
    tuning: dict[str, str]
    runs: dict[str, dict[str, Any]]
    cleanup_problems: list[str]
    worker_log_problems: list[str]


def run_servers(plan: Plan) -> ServerRuns:
    """Prepare the stack once, then benchmark each server; everything is torn down after."""
    stack = Stack.create()
    runs: dict[str, dict[str, Any]] = {}
    worker_problems: list[str] = []
    problems: list[str] = []
    try:
        say(f"mode {stack.mode}: {stack.description}")
        stack.acquire()
        say("migrating and seeding the demo workspace")
        stack.prepare_app()
        say(f"demo agent {stack.agent_id}")
        for name in plan.servers:
            runs[name] = _run_one(stack, name, plan)
        worker_problems = stack.worker_problems()[:MAX_LOG_LINES]
    finally:
        problems = stack.close()
        for problem in problems:
            say(f"cleanup: {problem}")
    return ServerRuns(stack.mode, stack.description, stack.tuning, runs, problems, worker_problems)


def _run_one(stack: Stack, name: str, plan: Plan) -> dict[str, Any]:
    say(f"{name}: starting")
    try:
        server = stack.start_server(name)
    except BenchSetupError as exc:
        say(f"{name}: could not start: {exc}")
        return {"error": f"server did not start: {exc}"}
    run: dict[str, Any] = {
        "server": {
            "name": name,
            "version": server.version,
            "argv": [a.rsplit("/", 1)[-1] if a.startswith("/") else a for a in server.argv],
            "startup_s": server.startup_s,
        },
        "load_average_before": load_average(),
    }
    try:
        if "session" in plan.benchmarks:
            cfg = plan.session
            say(f"{name}: session x{cfg.requests} at concurrency {cfg.concurrency}")
            run["session"] = _measured(
                server.proc, stack.worker, run_session(server.port, stack.agent_id, cfg)
            )
            if cfg.floor and isinstance(run["session"], dict) and "error" not in run["session"]:
                run["session"]["floor"] = _session_floor(stack, name, cfg)
                run["session"]["vs_floor"] = session_vs_floor(run["session"])
        if "websocket" in plan.benchmarks:
            warm = _guarded(warm_up(server.port, stack.agent_id))
            if warm:
                run["websocket_warmup"] = warm
                say(f"{name}: {warm}")
            cfg_ws = plan.websocket
            say(f"{name}: websocket {cfg_ws.clients} clients x {cfg_ws.messages} messages")
            run["websocket"] = _measured(
                server.proc, stack.worker, run_ws(server.port, stack.agent_id, cfg_ws)
            )
        run["load_average_after"] = load_average()
        run["server_alive_after"] = server.proc.alive()
    finally:
        run["server_log_problems"] = server.proc.log_problems()[:MAX_LOG_LINES]
        server.proc.stop()
    return run


def _session_floor(stack: Stack, name: str, cfg: SessionConfig) -> dict[str, Any]:
    """The same session load against the floor, served by the same server, in this run."""
    say(f"{name}: floor x{cfg.requests} at concurrency {cfg.concurrency}")
    try:
        floor = stack.start_server(name, floor=True)
    except BenchSetupError as exc:
        return {"error": f"floor server did not start: {exc}"}
    try:
        result: dict[str, Any] = _measured(
            floor.proc, None, run_session(floor.port, stack.agent_id, cfg)
        )
    finally:
        floor.proc.stop()
    return result


def _measured(server: Proc, worker: Proc | None, coro: Any) -> Any:
    """Run a benchmark and add the CPU seconds the server (and Celery worker) spent on it."""
    procs = {"server_cpu_s": server, "worker_cpu_s": worker}
    before = {k: cpu_seconds(p.popen.pid) if p else None for k, p in procs.items()}
    client_before = time.process_time()
    result = _guarded(coro)
    if isinstance(result, dict):  # the load generator shares the machine's CPUs
        result["client_cpu_s"] = round(time.process_time() - client_before, 2)
    for key, proc in procs.items():
        after = cpu_seconds(proc.popen.pid) if proc else None
        start = before[key]
        if isinstance(result, dict) and after is not None and start is not None:
            result[key] = round(after - start, 2)
    return result


def _guarded(coro: Any) -> Any:
    """Run one benchmark coroutine; a crash becomes an error entry, not a lost run."""
    started = time.monotonic()
    try:
        return asyncio.run(coro)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "after_s": time.monotonic() - started}
