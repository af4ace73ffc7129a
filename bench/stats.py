"""Percentiles and a description of the machine the figures came from."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (the same as numpy's default)."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summary_ms(seconds: list[float]) -> dict[str, float | int | None]:
    """count, p50, p95, p99, max and mean of durations given in seconds, in milliseconds."""
    values = sorted(s * 1000.0 for s in seconds)
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    return {
        "count": len(values),
        "p50": round(percentile(values, 0.50), 2),
        "p95": round(percentile(values, 0.95), 2),
        "p99": round(percentile(values, 0.99), 2),
        "max": round(values[-1], 2),
        "mean": round(sum(values) / len(values), 2),
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine_info() -> dict[str, Any]:
    cpu_model = ""
    mem_total_mb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total_mb = int(line.split()[1]) // 1024
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "mem_total_mb": mem_total_mb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "hostname": platform.node(),
        "load_average": load_average(),
    }
