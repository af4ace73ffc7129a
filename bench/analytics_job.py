"""The Django side of the analytics bench, run by bench/analytics.py inside the bench stack's
environment (its own database): `python -m bench.analytics_job rollup|dashboard|count ...`.

Prints one JSON object on its last line. Kept apart from bench/analytics.py because it
needs Django set up on the bench database, which the bench process itself never is.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from agents.models import Agent  # noqa: E402
from analytics.histograms import histogram_of  # noqa: E402
from analytics.models import MetricsBucket, WidgetEvent  # noqa: E402
from analytics.rollups import DAY, buckets_recompute, day_start, rollup_incremental  # noqa: E402
from bench.stats import percentile  # noqa: E402
from workspaces.models import Membership  # noqa: E402

SEED = 20260101
DOMAINS = ("shop.example.com", "blog.example.com", "help.example.com")
VARIANTS = ("", "greeting:a", "greeting:b")
# (event, share of all events): a plausible mix of widget and server events.
MIX = (
    ("load", 0.40),
    ("open", 0.12),
    ("close", 0.08),
    ("message", 0.12),
    ("message_answered", 0.11),
    ("conversation_started", 0.05),
    ("exposure", 0.04),
    ("resolved", 0.035),
    ("handed_off", 0.01),
    ("csat", 0.015),
    ("error", 0.01),
)


def _metadata(rng: random.Random, event: str) -> dict[str, Any] | None:
    if event == "load":
        return {"ms": round(rng.lognormvariate(5.0, 0.6), 1), "url": "https://shop.example.com/p"}
    if event == "message_answered":
        return {"ms": round(rng.lognormvariate(7.2, 0.7)), "conversationId": "cnv_bench"}
    if event == "resolved":
        return {"by": "bot" if rng.random() < 0.7 else "human"}
    if event == "csat":
        return {"score": rng.randint(1, 5)}
    return None


def generate(
    *, events: int, span: timedelta, agents: list[tuple[int, str]], seed: int = SEED
) -> float:
    """Insert `events` raw events that happened over the last `span`, each received up to a
    minute later (and never after now). COPY on PostgreSQL."""
    rng = random.Random(seed)
    names = [name for name, _ in MIX]
    weights = [share for _, share in MIX]
    now = timezone.now()
    start = now - span
    seconds = span.total_seconds()
    columns = (
        "workspace_id, agent_id, domain, event, session_id, metadata, event_id, variant, "
        "occurred_at, created_at"
    )
    started = time.perf_counter()

    def rows() -> Any:
        for n in range(events):
            workspace_id, agent_id = agents[n % len(agents)]
            event = rng.choices(names, weights)[0]
            occurred = start + timedelta(seconds=rng.random() * seconds)
            metadata = _metadata(rng, event)
            yield (
                workspace_id,
                agent_id,
                rng.choice(DOMAINS),
                event,
                f"vis_{rng.randrange(200_000):06d}",
                json.dumps(metadata) if metadata is not None else None,
                f"bench-{seed}-{n:09d}",
                rng.choice(VARIANTS),
                occurred,
                min(now, occurred + timedelta(seconds=rng.random() * 60)),
            )

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg 3
            with raw.copy(f"COPY analytics_widgetevent ({columns}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
    else:
        batch: list[WidgetEvent] = []
        for row in rows():
            fields = dict(zip([c.strip() for c in columns.split(",")], row, strict=True))
            fields["metadata"] = json.loads(fields["metadata"]) if fields["metadata"] else None
            batch.append(WidgetEvent(**fields))
            if len(batch) == 10_000:
                WidgetEvent.objects.bulk_create(batch)
                batch = []
        WidgetEvent.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE analytics_widgetevent")
    return time.perf_counter() - started


def _demo_agent() -> Agent:
    """The agent `seed_demo` made (the bench may add more to its workspace)."""
    return Agent.objects.filter(workspace__slug="acme-outdoor").earliest("id")


def _bench_agents(count: int) -> list[tuple[int, str]]:
    demo = _demo_agent()
    return [(demo.workspace_id, demo.public_id)] + [
        (demo.workspace_id, f"agt_bench{n:03d}") for n in range(1, count)
    ]


def rollup(events: int, days: int) -> dict[str, Any]:
    agents = _bench_agents(5)
    insert_s = generate(events=events, span=timedelta(days=days), agents=agents)
    first = day_start((timezone.now() - timedelta(days=days)).date())
    per_day: list[float] = []
    started = time.perf_counter()
    moment = first
    hours = day_rows = 0
    while moment <= timezone.now():
        day_started = time.perf_counter()
        report = buckets_recompute(ranges=[(moment, moment + DAY)])
        per_day.append(time.perf_counter() - day_started)
        hours, day_rows = hours + report.hours, day_rows + report.days
        moment += DAY
    full_s = time.perf_counter() - started
    # What the beat task does every few minutes: a fresh batch, plus a few late events.
    generate(events=1000, span=timedelta(hours=2), agents=agents, seed=SEED + 1)
    incremental_started = time.perf_counter()
    incremental = rollup_incremental()
    incremental_s = time.perf_counter() - incremental_started
    stored = WidgetEvent.objects.count()
    return {
        "events": stored,
        "days": days,
        "agents": len(agents),
        "insert_s": round(insert_s, 2),
        "rollup_s": round(full_s, 2),
        "rollup_events_per_s": round(events / full_s),
        "rollup_day_s": {
            "p50": round(statistics.median(per_day), 3),
            "max": round(max(per_day), 3),
        },
        "hour_buckets": hours,
        "day_buckets": day_rows,
        "incremental_s": round(incremental_s, 3),
        "incremental_windows": incremental.windows,
    }


def _hourly_rollups(agent_id: str, workspace_id: int, days: int) -> int:
    """`days` of hourly buckets (and their day buckets) for one agent, written directly."""
    rng = random.Random(SEED)
    end = day_start(timezone.now().date()) + DAY
    start = end - timedelta(days=days)
    rows: list[MetricsBucket] = []
    moment = start
    while moment < end:
        for domain in DOMAINS:
            for variant in VARIANTS:
                loads = rng.randint(20, 200)
                for grain, at in (("hour", moment),) + (
                    (("day", moment),) if moment.hour == 0 else ()
                ):
                    scale = 24 if grain == "day" else 1
                    rows.append(
                        MetricsBucket(
                            workspace_id=workspace_id,
                            agent_id=agent_id,
                            domain=domain,
                            variant=variant,
                            grain=grain,
                            start=at,
                            loads=loads * scale,
                            opens=loads * scale // 4,
                            visitors=loads * scale * 9 // 10,
                            conversations=loads * scale // 12,
                            customer_messages=loads * scale // 4,
                            agent_messages=loads * scale // 4,
                            resolved_bot=loads * scale // 20,
                            resolved_human=loads * scale // 60,
                            csat_count=loads * scale // 50,
                            csat_sum=loads * scale // 50 * 4,
                            errors=rng.randint(0, 2),
                            load_time_hist=histogram_of(
                                rng.lognormvariate(5, 0.6) for _ in range(20)
                            ),
                            first_response_hist=histogram_of(
                                rng.lognormvariate(7, 0.7) for _ in range(10)
                            ),
                        )
                    )
        moment += timedelta(hours=1)
    MetricsBucket.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _timed(client: Client, url: str, runs: int) -> dict[str, Any]:
    client.get(url, HTTP_HOST="localhost")  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, HTTP_HOST="localhost")
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    ordered = sorted(samples)
    return {
        "runs": runs,
        "p50": round(percentile(ordered, 0.5), 1),
        "p95": round(percentile(ordered, 0.95), 1),
        "max": round(ordered[-1], 1),
    }


def dashboard(days: int, runs: int) -> dict[str, Any]:
    demo = _demo_agent()
    agent = Agent.objects.create(workspace=demo.workspace, name="Bench dashboard")
    agent_id = agent.public_id
    written = _hourly_rollups(agent_id, agent.workspace_id, days)
    user = get_user_model().objects.create_user("bench-analyst", password=None, is_staff=True)
    Membership.objects.create(workspace=agent.workspace, user=user, role=Membership.Role.AGENT)
    client = Client()
    client.force_login(user)
    today = datetime.now(UTC).date()
    first = (today - timedelta(days=days - 1)).isoformat()
    month = (today - timedelta(days=30)).isoformat()
    query = f"agent={agent_id}&from={first}&to={today.isoformat()}"
    return {
        "buckets_written": written,
        "days": days,
        "page_90d": _timed(client, f"/admin/analytics/dashboard/?{query}", runs),
        "api_summary_90d": _timed(client, f"/api/v2/analytics/summary?{query}", runs),
        "api_hourly_31d": _timed(
            client,
            f"/api/v2/analytics/timeseries?agent={agent_id}&from={month}&grain=hour",
            runs,
        ),
        "csv_90d": _timed(
            client, f"/admin/analytics/dashboard/export.csv?{query}", max(5, runs // 5)
        ),
    }


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "rollup":
        result = rollup(int(args[0]), int(args[1]))
    elif command == "dashboard":
        result = dashboard(int(args[0]), int(args[1]))
    elif command == "count":
        result = {"events": WidgetEvent.objects.count()}
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
