"""The topology bench's rounds summed up (medians, session against floor), and its table."""

from __future__ import annotations

import statistics
from typing import Any

MEDIAN_KEYS = ("requests_per_s", "p50_ms", "p99_ms", "cpu_ms_per_request")


def median_rounds(runs: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The median of each figure over the rounds that ran, errors summed; else the first error."""
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


def session_vs_floor_ratio(
    session: dict[str, Any] | None, floor: dict[str, Any] | None
) -> float | None:
    """The session's requests/s as a share of the floor's; None when either is missing."""
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
