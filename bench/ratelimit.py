"""Cost of one rate-limit check, in-process (embedded) and in Redis (services mode).

Every websocket message pays two or three checks (frame, message, abuse counters), so
the figure that matters is the per-check latency. The run also replays the race the
limiter must win: 100 concurrent hits against a limit of 10 must let exactly 10 through.
"""

from __future__ import annotations

import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.stats import percentile
from security.ratelimit import _SCRIPT, _MemoryCounter

CHECKS, QUICK_CHECKS = 5000, 1000


def _summary(samples_us: list[float]) -> dict[str, float]:
    ordered = sorted(samples_us)
    return {
        "p50": round(percentile(ordered, 0.50), 1),
        "p99": round(percentile(ordered, 0.99), 1),
        "max": round(ordered[-1], 1),
    }


def _memory(checks: int) -> dict[str, Any]:
    counter = _MemoryCounter()
    samples = []
    for index in range(checks):
        started = time.perf_counter()
        counter.incr(f"visitor-{index % 200}", 1, 60)
        samples.append((time.perf_counter() - started) * 1e6)
    race = _MemoryCounter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        counts = list(pool.map(lambda _: race.incr("office", 1, 60)[0], range(100)))
    return {"per_check_us": _summary(samples), "race_allowed_of_100": sum(c <= 10 for c in counts)}


def _redis(url: str, checks: int) -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(url)
    script = client.register_script(_SCRIPT)
    prefix = f"ca-bench-rl-{secrets.token_hex(4)}"
    try:
        samples = []
        for index in range(checks):
            started = time.perf_counter()
            script(keys=[f"{prefix}:visitor-{index % 200}"], args=[1, 60_000])
            samples.append((time.perf_counter() - started) * 1e6)
        with ThreadPoolExecutor(max_workers=20) as pool:
            counts = list(
                pool.map(
                    lambda _: int(script(keys=[f"{prefix}:race"], args=[1, 60_000])[0]), range(100)
                )
            )
        return {
            "per_check_us": _summary(samples),
            "race_allowed_of_100": sum(c <= 10 for c in counts),
        }
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def run_ratelimit(*, quick: bool = False) -> dict[str, Any]:
    checks = QUICK_CHECKS if quick else CHECKS
    result: dict[str, Any] = {"checks": checks, "memory": _memory(checks)}
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        result["redis"] = _redis(redis_url, checks)
    backends = [result["memory"], *([result["redis"]] if "redis" in result else [])]
    result["ok"] = all(b["race_allowed_of_100"] == 10 for b in backends)
    return result


def ratelimit_table(result: dict[str, Any]) -> list[str]:
    lines = [
        f"{'Rate-limit check (' + str(result['checks']) + ' checks)':<46}"
        f"{'p50 us':>10}{'p99 us':>10}{'race 100->10':>14}"
    ]
    for name in ("memory", "redis"):
        if name in result:
            row = result[name]
            lines.append(
                f"  {name:<44}{row['per_check_us']['p50']:>10}{row['per_check_us']['p99']:>10}"
                f"{row['race_allowed_of_100']:>14}"
            )
    return lines
