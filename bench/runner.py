"""Runs the selected benchmarks against each ASGI server in turn and collects results."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.procs import BenchSetupError
from bench.session import SessionConfig, run_session
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
    return ServerRuns(stack.mode, stack.description, runs, problems, worker_problems)


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
            run["session"] = _guarded(run_session(server.port, stack.agent_id, cfg))
        if "websocket" in plan.benchmarks:
            warm = _guarded(warm_up(server.port, stack.agent_id))
            if warm:
                run["websocket_warmup"] = warm
                say(f"{name}: {warm}")
            cfg_ws = plan.websocket
            say(f"{name}: websocket {cfg_ws.clients} clients x {cfg_ws.messages} messages")
            run["websocket"] = _guarded(run_ws(server.port, stack.agent_id, cfg_ws))
        run["load_average_after"] = load_average()
        run["server_alive_after"] = server.proc.alive()
    finally:
        run["server_log_problems"] = server.proc.log_problems()[:MAX_LOG_LINES]
        server.proc.stop()
    return run


def _guarded(coro: Any) -> Any:
    """Run one benchmark coroutine; a crash becomes an error entry, not a lost run."""
    started = time.monotonic()
    try:
        return asyncio.run(coro)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "after_s": time.monotonic() - started}
