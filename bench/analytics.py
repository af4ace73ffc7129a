"""Analytics: events ingested per second through the endpoint, roll-up time for 1,000,000
events, and dashboard/API latency over 90 days of hourly roll-ups.

It starts its own stack (the bench database, or with services its own PostgreSQL database
and Redis db; no Celery worker) and one uvicorn. Ingestion is measured over HTTP against
that server; roll-up and dashboard run in `bench.analytics_job`, a child process with
Django set up on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from bench.httpclient import HttpConnection
from bench.procs import VENV_BIN, BenchSetupError, run_manage
from bench.session import ORIGIN, create_session
from bench.stack import Stack
from bench.stats import load_average, summary_ms

EVENTS_PATH = "/api/v2/widget/events"
# One visitor may post 120 batches a minute; the bench's visitors post far more.
RAISE_EVENTS_LIMIT = (
    "from widgets.models import WidgetConfig; "
    "c = WidgetConfig.objects.get(agent__workspace__slug='acme-outdoor'); "
    "c.rate_limits = {**(c.rate_limits or {}), 'events_per_visitor': 100000}; c.save()"
)


@dataclass(frozen=True)
class AnalyticsConfig:
    ingest_batches: int = 1000
    ingest_clients: int = 20
    batch_events: int = 20
    retry_share: float = 0.05  # batches sent twice, as a retried beacon is
    ingest_cap_s: float = 60.0
    rollup_events: int = 1_000_000
    rollup_days: int = 30
    dashboard_days: int = 90
    dashboard_runs: int = 50
    job_timeout_s: float = 900.0


QUICK = AnalyticsConfig(
    ingest_batches=200, rollup_events=100_000, dashboard_runs=15, ingest_cap_s=20
)


def _batch(token: str, size: int) -> bytes:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    events = [
        {"id": str(uuid.uuid4()), "type": kind, "ts": now, "metadata": {"ms": 150}}
        if kind == "load"
        else {"id": str(uuid.uuid4()), "type": kind, "ts": now}
        for kind in (["load", "open", "message", "close"] * size)[:size]
    ]
    return json.dumps({"token": token, "events": events}).encode()


async def run_ingest(port: int, agent_id: str, config: AnalyticsConfig) -> dict[str, Any]:
    headers = {"Content-Type": "text/plain", "Origin": ORIGIN}
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    sent_events = 0
    issued = 0
    deadline = time.monotonic() + config.ingest_cap_s

    async def client() -> None:
        nonlocal issued, sent_events
        conn = HttpConnection("127.0.0.1", port)
        try:
            token = (await create_session(conn, agent_id))["token"]
            while issued < config.ingest_batches and time.monotonic() < deadline:
                issued += 1
                body = _batch(token, config.batch_events)
                repeats = 2 if (issued % round(1 / config.retry_share)) == 0 else 1
                accepted = False
                for _ in range(repeats):
                    started = time.perf_counter()
                    try:
                        response = await conn.request("POST", EVENTS_PATH, body, headers)
                    except (OSError, asyncio.IncompleteReadError) as exc:
                        errors[type(exc).__name__] += 1
                        continue
                    if response.status == 202:
                        latencies.append(time.perf_counter() - started)
                        accepted = True
                    else:
                        errors[f"HTTP {response.status}"] += 1
                if accepted:
                    sent_events += config.batch_events
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(config.ingest_clients)))
    wall = time.perf_counter() - started
    return {
        "batches": issued,
        "requests_ok": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "unique_events_sent": sent_events,
        "wall_s": round(wall, 2),
        "events_per_s": round(sent_events / wall) if wall else None,
        "requests_per_s": round(len(latencies) / wall, 1) if wall else None,
        "latency_ms": summary_ms(latencies),
    }


def _job(stack: Stack, args: list[str], timeout: float) -> dict[str, Any]:
    import subprocess

    argv = [str(VENV_BIN / "python"), "-m", "bench.analytics_job", *args]
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        argv, env=stack.env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise BenchSetupError(f"bench.analytics_job {args[0]} failed:\n{tail}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_analytics(*, quick: bool = False) -> dict[str, Any]:
    config = QUICK if quick else AnalyticsConfig()
    result: dict[str, Any] = {"config": asdict(config)}
    stack = Stack.create()
    try:
        stack.acquire()
        stack.prepare_app(worker=False)
        run_manage(["shell", "-c", RAISE_EVENTS_LIMIT], stack.env)
        result.update(
            mode=stack.mode,
            mode_description=stack.description,
            load_average_before=load_average(),
        )
        server = stack.start_server("uvicorn")
        try:
            result["ingest"] = asyncio.run(run_ingest(server.port, stack.agent_id, config))
            result["server_log_problems"] = server.proc.log_problems()[:20]
        finally:
            server.proc.stop()
        stored = _job(stack, ["count"], 120)["events"]
        result["ingest"]["events_stored"] = stored
        # Every accepted event once, the retried batches included only once.
        result["ingest"]["deduplicated"] = stored == result["ingest"]["unique_events_sent"]
        timeout = config.job_timeout_s
        args = [str(config.rollup_events), str(config.rollup_days)]
        result["rollup"] = _job(stack, ["rollup", *args], timeout)
        args = [str(config.dashboard_days), str(config.dashboard_runs)]
        result["dashboard"] = _job(stack, ["dashboard", *args], timeout)
        result["load_average_after"] = load_average()
        result["ok"] = result["ingest"]["deduplicated"] and not result["ingest"]["errors"]
    except BenchSetupError as exc:
        result.update(ok=False, setup_failed=True, error=str(exc))
    finally:
        with contextlib.suppress(Exception):
            result["cleanup_problems"] = stack.close()
    return result


def analytics_table(result: dict[str, Any]) -> list[str]:
    if "error" in result:
        return [f"Analytics: {result['error']}"]
    ingest, rollup, dash = result["ingest"], result["rollup"], result["dashboard"]
    rows = [
        ("ingest events/s (20/batch)", ingest["events_per_s"]),
        (
            "ingest batch p50 / p95 ms",
            f"{ingest['latency_ms']['p50']} / {ingest['latency_ms']['p95']}",
        ),
        ("ingest stored once / errors", f"{ingest['deduplicated']} / {ingest['errors']}"),
        (f"roll-up {rollup['events']:,} events s", rollup["rollup_s"]),
        ("roll-up events/s", rollup["rollup_events_per_s"]),
        ("roll-up slowest day s", rollup["rollup_day_s"]["max"]),
        ("incremental run s", rollup["incremental_s"]),
        ("dashboard 90 d p50 / p95 ms", f"{dash['page_90d']['p50']} / {dash['page_90d']['p95']}"),
        ("API summary 90 d p95 ms", dash["api_summary_90d"]["p95"]),
        ("API hourly 31 d p95 ms", dash["api_hourly_31d"]["p95"]),
        ("CSV 90 d p95 ms", dash["csv_90d"]["p95"]),
    ]
    lines = [f"{'Analytics (' + result['mode'] + ')':<46}{'value':>16}"]
    lines += [f"  {label:<44}{value!s:>16}" for label, value in rows]
    return lines
