"""Simulated visitors for the demo: real HTTP requests to a running platform on this
machine, through the public widget API, as the widget on the demo site would send them.

Each visitor opens a session from the demo site's origin (so the server assigns its A/B
variants), then posts its events: a load with a load time, its exposures, and with the
given probability per variant an open and a message. `errors` posts a burst of widget
errors (an injected spike for the demo's alert rule). Loopback only, bounded in count.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

MAX_VISITORS = 2_000
MAX_ERRORS = 500
ERROR_BATCH = 25  # events per batch, well under the endpoint's per-batch limit
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class TrafficRefused(Exception):
    """Asked to send traffic somewhere other than this machine, or too much of it."""


@dataclass(frozen=True)
class TrafficPlan:
    base_url: str  # the platform, e.g. http://localhost:8000
    origin: str  # the demo site, e.g. http://127.0.0.1:8001
    agent_id: str
    visitors: int = 100
    open_rates: dict[str, float] = field(default_factory=dict)  # variant -> P(open)
    default_open_rate: float = 0.2
    message_rate: float = 0.5  # P(message | open)
    errors: int = 0
    seed: int | None = None
    max_seconds: float = 300.0


@dataclass
class TrafficReport:
    visitors: int = 0
    by_variant: Counter[str] = field(default_factory=Counter)
    opens: Counter[str] = field(default_factory=Counter)
    errors: int = 0


def _loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK


def plan_check(plan: TrafficPlan) -> None:
    if not (_loopback(plan.base_url) and _loopback(plan.origin)):
        raise TrafficRefused("Demo traffic goes to this machine only (localhost, 127.0.0.1).")
    if not 0 <= plan.visitors <= MAX_VISITORS or not 0 <= plan.errors <= MAX_ERRORS:
        raise TrafficRefused(f"At most {MAX_VISITORS} visitors and {MAX_ERRORS} errors per run.")
    rates = [plan.default_open_rate, plan.message_rate, *plan.open_rates.values()]
    if not all(0 <= rate <= 1 for rate in rates):
        raise TrafficRefused("Rates are probabilities between 0 and 1.")


def _post(plan: TrafficPlan, path: str, body: dict[str, Any], deadline: float) -> dict[str, Any]:
    """POST JSON from the demo origin; waits out 429s (Retry-After) until the deadline."""
    request = urllib.request.Request(  # noqa: S310 (plan_check: http(s) to loopback only)
        plan.base_url.rstrip("/") + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Origin": plan.origin},
        method="POST",
    )
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            wait = float(exc.headers.get("Retry-After") or 0) if exc.code == 429 else -1
            if wait < 0 or time.monotonic() + wait > deadline:
                detail = exc.read()[:300].decode(errors="replace")
                raise TrafficRefused(f"{path}: HTTP {exc.code} {detail}") from None
            time.sleep(max(wait, 0.5))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _session(plan: TrafficPlan, page: str, deadline: float) -> dict[str, Any]:
    return _post(plan, "/api/v2/widget/session", {"agentId": plan.agent_id, "url": page}, deadline)


def traffic_run(plan: TrafficPlan, report: TrafficReport | None = None) -> TrafficReport:
    """Send the plan's visitors and errors; returns what was sent, per variant."""
    plan_check(plan)
    report = report or TrafficReport()
    rng = random.Random(plan.seed)  # noqa: S311 (a simulation, not a secret)
    deadline = time.monotonic() + plan.max_seconds
    page = plan.origin.rstrip("/") + "/"
    token = ""
    for _ in range(plan.visitors):
        session = _session(plan, page, deadline)
        token = str(session["token"])
        variants: dict[str, str] = dict(session.get("variants") or {})
        events: list[dict[str, Any]] = [
            {"type": "load", "ts": _now(), "metadata": {"url": page, "ms": rng.randint(250, 1400)}}
        ]
        events += [
            {"type": "exposure", "ts": _now(), "metadata": {"experiment": key, "variant": value}}
            for key, value in variants.items()
        ]
        label = ",".join(f"{key}:{value}" for key, value in sorted(variants.items())) or "-"
        rate = max(
            (plan.open_rates.get(value, plan.default_open_rate) for value in variants.values()),
            default=plan.default_open_rate,
        )
        if rng.random() < rate:
            events.append({"type": "open", "ts": _now()})
            report.opens[label] += 1
            if rng.random() < plan.message_rate:
                events.append({"type": "message", "ts": _now()})
        _post(plan, "/api/v2/widget/events", {"token": token, "events": events}, deadline)
        report.visitors += 1
        report.by_variant[label] += 1
    if plan.errors:
        if not token:  # errors come from some visitor's widget
            token = str(_session(plan, page, deadline)["token"])
        for start in range(0, plan.errors, ERROR_BATCH):
            batch = [
                {
                    "type": "error",
                    "ts": _now(),
                    "metadata": {"code": "internal", "message": "TypeError: demo spike"},
                }
                for _ in range(min(ERROR_BATCH, plan.errors - start))
            ]
            _post(plan, "/api/v2/widget/events", {"token": token, "events": batch}, deadline)
            report.errors += len(batch)
    return report
