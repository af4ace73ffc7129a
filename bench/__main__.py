"""`python -m bench [--only ...] [--servers ...] [--quick]`: run, print a table, write JSON."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from bench.analytics import analytics_table, run_analytics
from bench.llm import llm_status, llm_table, run_llm
from bench.pii import run_pii
from bench.procs import BenchSetupError, Proc
from bench.ratelimit import ratelimit_table, run_ratelimit
from bench.replies import replies_status, replies_table, run_replies
from bench.report import pii_table, servers_table, sizes_table, write_json
from bench.runner import Plan, run_servers, say
from bench.scale import run_scale, scale_config, scale_status
from bench.scale_report import scale_table
from bench.session import SessionConfig
from bench.sizes import run_sizes
from bench.stack import SERVERS
from bench.stats import machine_info, now_iso
from bench.topology import TopologyConfig, run_topology
from bench.topology_report import topology_table
from bench.widget_perf import run_widget, widget_status
from bench.widget_report import widget_table
from bench.ws import WsConfig

BENCHMARKS = (
    "sizes",
    "pii",
    "ratelimit",
    "session",
    "websocket",
    "widget",
    "llm",
    "replies",
    "analytics",
    "scale",
    "topology",
)
IN_PROCESS = ("sizes", "pii", "ratelimit")  # need no server
# Start (and stop) their own platform: the demo site and a browser, or a model server.
OWN_STACK = ("widget", "llm", "replies", "analytics", "scale", "topology")
# `make bench-scale` (`--only scale`) takes minutes and a database of its own: not by default.
# `--only topology` (the serving shapes, docs/operations.md) and `--only replies` (the answer
# path at 100 messages/s on 1 and 2 Celery workers, services mode) take minutes too.
DEFAULT_BENCHMARKS = [b for b in BENCHMARKS if b not in ("scale", "topology", "replies")]


def _csv(allowed: tuple[str, ...]) -> Any:
    def parse(value: str) -> list[str]:
        items = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [v for v in items if v not in allowed]
        if unknown or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return items

    return parse


def _bounded(low: int, high: int) -> Any:
    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return number

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", type=_csv(BENCHMARKS), default=DEFAULT_BENCHMARKS)
    parser.add_argument("--servers", type=_csv(SERVERS), default=list(SERVERS))
    parser.add_argument("--quick", action="store_true", help="small counts for a smoke run")
    parser.add_argument("--requests", type=_bounded(1, 20000), help="session requests")
    parser.add_argument(
        "--concurrency", type=_bounded(1, 256), help="concurrent session clients (default 32)"
    )
    parser.add_argument(
        "--session-rate",
        type=_bounded(1, 5000),
        help="open loop: start session requests at this total rate (req/s) instead of "
        "as fast as the clients are answered",
    )
    parser.add_argument("--clients", type=_bounded(1, 500), help="websocket clients")
    parser.add_argument("--messages", type=_bounded(1, 50), help="messages per client")
    scale = parser.add_argument_group("scale (make bench-scale)")
    scale.add_argument("--sockets", type=_bounded(1, 20000), help="widgets held (default 1000)")
    scale.add_argument("--duration", type=_bounded(1, 600), help="seconds of load (default 60)")
    scale.add_argument("--rate", type=_bounded(1, 5000), help="messages/s offered (default 100)")
    scale.add_argument("--storm-rate", type=_bounded(1, 2000), help="connects/s (default 200)")
    scale.add_argument("--storm-seconds", type=_bounded(1, 60), help="storm length (default 5)")
    scale.add_argument("--load-procs", type=_bounded(1, 16), help="load processes (default 2)")
    return parser.parse_args(argv)


def make_plan(args: argparse.Namespace) -> Plan:
    session = SessionConfig(requests=200, cap_s=20) if args.quick else SessionConfig()
    websocket = (
        WsConfig(clients=20, messages=2, cap_s=30, connect_cap_s=30) if args.quick else WsConfig()
    )
    if args.requests or args.concurrency or args.session_rate:
        session = SessionConfig(
            requests=args.requests or session.requests,
            concurrency=args.concurrency or session.concurrency,
            cap_s=session.cap_s,
            rate=float(args.session_rate or 0),
        )
    if args.clients or args.messages:
        websocket = WsConfig(
            clients=args.clients or websocket.clients,
            messages=args.messages or websocket.messages,
            cap_s=websocket.cap_s,
            connect_cap_s=websocket.connect_cap_s,
        )
    ordered = [
        b for b in BENCHMARKS if b in args.only and b not in IN_PROCESS and b not in OWN_STACK
    ]
    return Plan(ordered, list(dict.fromkeys(args.servers)), session, websocket)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: children are stopped


def _scale(args: argparse.Namespace) -> dict[str, Any]:
    overrides = {
        "sockets": args.sockets,
        "duration_s": args.duration,
        "rate": args.rate,
        "storm_rate": args.storm_rate,
        "storm_seconds": args.storm_seconds,
        "load_procs": args.load_procs,
    }
    return run_scale(scale_config(quick=args.quick, overrides=overrides))


def _topology(args: argparse.Namespace) -> dict[str, Any]:
    return run_topology(TopologyConfig(rounds=1, duration_s=3) if args.quick else TopologyConfig())


def _analytics_status(result: dict[str, Any]) -> int:
    return 2 if result.get("setup_failed") else 0 if result["ok"] else 1


# The benchmarks that run in this process, in order: (name, run, file name, table, status).
InProcess = tuple[
    str,
    Callable[[argparse.Namespace], dict[str, Any]],
    Callable[[dict[str, Any]], str],
    Callable[[dict[str, Any]], list[str]],
    Callable[[dict[str, Any]], int],
]
IN_PROCESS_RUNS: tuple[InProcess, ...] = (
    (
        "sizes",
        lambda a: run_sizes(),
        lambda r: "sizes",
        sizes_table,
        lambda r: int(not r.get("ok")),
    ),
    (
        "pii",
        lambda a: run_pii(quick=a.quick),
        lambda r: "pii",
        pii_table,
        lambda r: int(not r["ok"]),
    ),
    (
        "ratelimit",
        lambda a: run_ratelimit(quick=a.quick),
        lambda r: "ratelimit",
        ratelimit_table,
        lambda r: int(not r["ok"]),
    ),
    (
        "widget",
        lambda a: run_widget(quick=a.quick),
        lambda r: "widget",
        widget_table,
        widget_status,
    ),
    (
        "llm",
        lambda a: run_llm(quick=a.quick),
        lambda r: f"llm-{r.get('mode', 'embedded')}",
        llm_table,
        llm_status,
    ),
    (
        "replies",
        lambda a: run_replies(quick=a.quick),
        lambda r: f"replies-{r.get('mode', 'embedded')}",
        replies_table,
        replies_status,
    ),
    ("scale", _scale, lambda r: "scale", scale_table, scale_status),
    ("topology", _topology, lambda r: "topology", topology_table, lambda r: 0 if r["ok"] else 2),
    (
        "analytics",
        lambda a: run_analytics(quick=a.quick),
        lambda r: f"analytics-{r.get('mode', 'setup')}",
        analytics_table,
        _analytics_status,
    ),
)


def _run_in_process(
    args: argparse.Namespace, common: dict[str, Any], lines: list[str], written: list[str]
) -> int:
    status = 0
    for name, run, file_name, table, judge in IN_PROCESS_RUNS:
        if name not in args.only:
            continue
        result = run(args)
        written.append(write_json(file_name(result), {"benchmark": name, **common, **result}))
        lines += [*table(result), ""]
        status = max(status, judge(result))
    return status


def _server_payload(bench: str, done: Any, plan: Plan, common: dict[str, Any]) -> dict[str, Any]:
    configs = {"session": plan.session, "websocket": plan.websocket}
    return {
        "benchmark": bench,
        "mode": done.mode,
        "mode_description": done.mode_description,
        "tuning_env": done.tuning,
        **common,
        "config": vars(configs[bench]),
        "servers": {
            name: {
                **{k: v for k, v in run.items() if k not in BENCHMARKS},
                "result": run.get(bench),
            }
            for name, run in done.runs.items()
        },
        "celery_worker_log_problems": done.worker_log_problems,
        "cleanup_problems": done.cleanup_problems,
    }


def _run_servers(
    plan: Plan, common: dict[str, Any], lines: list[str], written: list[str]
) -> int | None:
    """The benchmarks against started servers; None when their setup failed."""
    try:
        done = run_servers(plan)
    except BenchSetupError as exc:
        say(f"setup failed: {exc}")
        return None
    except (KeyboardInterrupt, SystemExit):
        say("interrupted: servers stopped and bench database/Redis db released")
        raise
    finally:
        Proc.stop_all()
    for bench in plan.benchmarks:
        # One file per benchmark and mode, so an embedded and a services run sit side by side.
        written.append(
            write_json(f"{bench}-{done.mode}", _server_payload(bench, done, plan, common))
        )
    header = f"Mode: {done.mode} ({done.mode_description})"
    if done.tuning:
        header += "  " + " ".join(f"{k}={v}" for k, v in sorted(done.tuning.items()))
    lines += [header, *servers_table(done.runs, plan.benchmarks), ""]
    return 2 if done.cleanup_problems else 0


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    args = parse_args(argv)
    plan = make_plan(args)
    started = time.monotonic()
    common = {"timestamp": now_iso(), "quick": args.quick, "machine": machine_info()}
    lines: list[str] = []
    written: list[str] = []
    status = _run_in_process(args, common, lines, written)
    if plan.benchmarks:
        served = _run_servers(plan, common, lines, written)
        if served is None:
            return 2
        status = max(status, served)
    machine = common["machine"]
    print(
        f"CustomerAgent bench {common['timestamp']}  nproc={machine['nproc']}  "
        f"load={machine['load_average']}  {'quick' if args.quick else 'full'} run  "
        f"{time.monotonic() - started:.0f}s"
    )
    print("\n".join(lines).rstrip())
    print("Results: " + " ".join(written))
    return status


if __name__ == "__main__":
    sys.exit(main())
