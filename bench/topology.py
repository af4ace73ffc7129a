"""`python -m bench --only topology`: the serving shapes `make serve` could run, measured.

Each shape runs 2 web processes on one public port, in services mode (PostgreSQL + Redis,
its own database and Redis db, `RATE_LIMITS_ENABLED=false`), one shape at a time and in
rounds, so the machine's other load falls on all of them alike. For each: a trivial DRF
POST behind the same middleware (bench.floor, at the session's path) and the real
`POST /api/v2/widget/session`, driven by wrk (a separate process, loopback only) with 32
connections: requests/s, p50/p99, and the web processes' CPU per request — the figure
least moved by whatever else the 2 cores are doing. A shape whose server is not installed
is skipped and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bench.procs import VENV_BIN, BenchSetupError, Proc, free_port, wait_healthy
from bench.session import ORIGIN, SESSION_PATH, session_body
from bench.stack import FLOOR_SETTINGS, Stack
from bench.stats import load_average

WEB_WORKERS = 2
CONNECTIONS = 32
HTTP_THREADS = 4  # gunicorn gthread and granian WSGI threads, as config.http_handler
UVICORN_FLAGS = ["--no-proxy-headers", "--ws-max-size", "65536", "--lifespan", "off"]
# wrk prints its summary as one JSON line (latencies in microseconds).
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = os.getenv("WRK_ORIGIN")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"socket_errors":%d,"timeouts":%d,'
    .. '"non_2xx":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(99)))
end
"""
NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {workdir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/nginx-body;
  proxy_temp_path {workdir}/nginx-proxy;
  fastcgi_temp_path {workdir}/nginx-fastcgi;
  uwsgi_temp_path {workdir}/nginx-uwsgi;
  scgi_temp_path {workdir}/nginx-scgi;
  upstream http_app {{ server 127.0.0.1:{http_port}; keepalive 64; }}
  upstream ws_app {{ server 127.0.0.1:{ws_port}; }}
  server {{
    listen 127.0.0.1:{port};
    location /ws/ {{
      proxy_pass http://ws_app;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 3600s;
    }}
    location / {{
      proxy_pass http://http_app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
}}
"""

Commands = list[tuple[str, list[str]]]


@dataclass(frozen=True)
class TopologyConfig:
    rounds: int = 2
    duration_s: int = 8
    warmup_s: int = 2


@dataclass(frozen=True)
class Topology:
    name: str
    description: str
    websockets: str  # how /ws/ reaches a server on the same public port
    needs: tuple[str, ...]  # Python modules or executables; a missing one skips the shape
    commands: Callable[[int, Path], Commands]  # (public port, workdir) -> processes


def _python(module: str, *args: str) -> list[str]:
    return [str(VENV_BIN / "python"), "-m", module, *args]


def _uvicorn(app: str, port: int) -> list[str]:
    return [
        str(VENV_BIN / "uvicorn"),
        app,
        *UVICORN_FLAGS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WEB_WORKERS),
        "--log-level",
        "warning",
    ]


def _gunicorn(app: str, port: int, *worker: str) -> list[str]:
    return _python(
        "gunicorn",
        app,
        *worker,
        "--workers",
        str(WEB_WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    )


def _gthread(port: int) -> list[str]:
    return _gunicorn("config.wsgi:application", port, "--worker-class", "gthread", "--threads", "4")


def _nginx_split(port: int, workdir: Path) -> Commands:
    http_port, ws_port = free_port(), free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            workers=WEB_WORKERS, workdir=workdir, port=port, http_port=http_port, ws_port=ws_port
        )
    )
    nginx = shutil.which("nginx") or "nginx"
    return [
        ("gunicorn", _gthread(http_port)),
        ("uvicorn-ws", _uvicorn("config.asgi:application", ws_port)),
        ("nginx", [nginx, "-e", "stderr", "-p", str(workdir), "-c", str(conf)]),
    ]


def _granian(interface: str, app: str, port: int) -> list[str]:
    return _python(
        "granian",
        "--interface",
        interface,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WEB_WORKERS),
        *(["--blocking-threads", str(HTTP_THREADS), "--no-ws"] if interface == "wsgi" else []),
        "--log-level",
        "warning",
        app,
    )


TOPOLOGIES = (
    Topology(
        "uvicorn, Django ASGI handler",
        "before issue 14: uvicorn --workers 2, Django's stock ASGI handler",
        "same server",
        ("uvicorn",),
        lambda port, _: [("uvicorn", _uvicorn("bench.django_asgi:application", port))],
    ),
    Topology(
        "gunicorn + uvicorn-worker",
        "gunicorn master, 2 uvicorn workers, Django's stock ASGI handler",
        "same server",
        ("gunicorn", "uvicorn_worker"),
        lambda port, _: [
            (
                "gunicorn",
                _gunicorn(
                    "bench.django_asgi:application",
                    port,
                    "--worker-class",
                    "uvicorn_worker.UvicornWorker",
                ),
            )
        ],
    ),
    Topology(
        "gunicorn gthread (WSGI)",
        "gunicorn, 2 gthread workers x 4 threads, config.wsgi",
        "none: HTTP only (the upper bound of a split shape)",
        ("gunicorn",),
        lambda port, _: [("gunicorn", _gthread(port))],
    ),
    Topology(
        "nginx -> gthread + uvicorn /ws/",
        "nginx (2 workers) on the port: / to gunicorn gthread x2, /ws/ to uvicorn x2",
        "nginx routes /ws/ to uvicorn",
        ("gunicorn", "nginx"),
        _nginx_split,
    ),
    Topology(
        "granian WSGI",
        "granian --interface wsgi, 2 workers x 4 blocking threads, config.wsgi",
        "none: HTTP only",
        ("granian",),
        lambda port, _: [("granian", _granian("wsgi", "config.wsgi:application", port))],
    ),
    Topology(
        "granian ASGI, one-hop handler",
        "granian --interface asgi, 2 workers, config.asgi (the one-hop handler)",
        "same server",
        ("granian",),
        lambda port, _: [("granian", _granian("asgi", "config.asgi:application", port))],
    ),
    Topology(
        "uvicorn, one-hop handler (make serve)",
        "uvicorn --workers 2, config.asgi: Django HTTP in one thread hop (config.http_handler)",
        "same server",
        ("uvicorn",),
        lambda port, _: [("uvicorn", _uvicorn("config.asgi:application", port))],
    ),
)


def say(message: str) -> None:
    print(f"[bench] topology: {message}", file=sys.stderr, flush=True)


def _missing(topology: Topology) -> list[str]:
    return [
        need
        for need in topology.needs
        if not (shutil.which(need) if need == "nginx" else find_spec(need))
    ]


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
            missing = _missing(topology)
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
            entry[kind] = _median([r.get(kind) for r in entry["rounds"]])
        entry["session_vs_floor"] = _ratio(entry["session"], entry["floor"])
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
            _wrk(wrk, script, port, config.warmup_s, stack.agent_id)
            cpu_before = _group_cpu([p.pgid for p in procs])
            result = _wrk(wrk, script, port, config.duration_s, stack.agent_id)
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


def _wrk(wrk: str, script: Path, port: int, seconds: int, agent_id: str) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "WRK_BODY": session_body(agent_id).decode(),
        "WRK_ORIGIN": ORIGIN,
    }
    argv = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s"]
    argv += [str(script), f"http://127.0.0.1:{port}{SESSION_PATH}"]
    out = subprocess.run(  # noqa: S603 - argv built here, no shell
        argv, env=env, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise BenchSetupError(f"wrk printed no summary: {out.stdout[-500:]} {out.stderr[-500:]}")
    raw = json.loads(line[4:])
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds_run, 1) if seconds_run else None,
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "errors": raw["socket_errors"] + raw["timeouts"],
        "non_2xx": raw["non_2xx"],
    }


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


MEDIAN_KEYS = ("requests_per_s", "p50_ms", "p99_ms", "cpu_ms_per_request")


def _median(runs: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    good = [r for r in runs if r and "error" not in r]
    if not good:
        errors = [r["error"] for r in runs if r and "error" in r]
        return {"error": errors[0]} if errors else None
    summary: dict[str, Any] = {
        key: round(statistics.median(r[key] for r in good if r.get(key) is not None), 2)
        for key in MEDIAN_KEYS
        if any(r.get(key) is not None for r in good)
    }
    summary["errors"] = sum(r["errors"] for r in good)
    summary["non_2xx"] = sum(r["non_2xx"] for r in good)
    summary["rounds"] = len(good)
    return summary


def _ratio(session: dict[str, Any] | None, floor: dict[str, Any] | None) -> float | None:
    try:
        return round(session["requests_per_s"] / floor["requests_per_s"], 2)  # type: ignore[index]
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def topology_table(result: dict[str, Any]) -> list[str]:
    if "topologies" not in result:
        return [f"Serving topology: {result.get('error', 'not measured')}"]
    cfg = result["config"]
    lines = [
        f"Serving topology: {cfg['web_processes']} web processes each, {cfg['connections']} "
        f"connections (wrk), {cfg['rounds']} x {cfg['duration_s']} s, medians; "
        "CPU = web processes' CPU ms per request",
        f"{'shape':40} | {'floor req/s':>11} | {'p50/p99 ms':>13} | {'CPU':>5} | "
        f"{'session req/s':>13} | {'p50/p99 ms':>13} | {'CPU':>5} | {'sess/floor':>10} | "
        "errors",
    ]
    first: dict[str, Any] = next(iter(result["topologies"].values()), {})
    baseline = first.get("floor") or {}
    for name, entry in result["topologies"].items():
        if "skipped" in entry:
            lines.append(f"{name:40} | skipped ({entry['skipped']})")
            continue
        cells = []
        for kind in ("floor", "session"):
            run = entry.get(kind) or {}
            if "requests_per_s" not in run:
                cells.append(f"{'failed: ' + str(run.get('error', '?'))[:60]:>35}")
                continue
            width = 11 if kind == "floor" else 13
            cells.append(
                f"{run['requests_per_s']:>{width}.0f} | "
                f"{run['p50_ms']:>6.0f}/{run['p99_ms']:<6.0f} | {run['cpu_ms_per_request']:>5.1f}"
            )
        errors = sum(
            (entry.get(k) or {}).get("errors", 0) + (entry.get(k) or {}).get("non_2xx", 0)
            for k in ("floor", "session")
        )
        ratio = entry.get("session_vs_floor")
        lines.append(
            f"{name:40} | {' | '.join(cells)} | {ratio if ratio is not None else '-':>10} | "
            f"{errors}"
        )
    if baseline.get("requests_per_s"):
        lines.append(f"(first row: the baseline, floor {baseline['requests_per_s']:.0f} req/s)")
    return lines
