"""The widget bench's runs summed up: percentiles per figure, and the goals they meet."""

from __future__ import annotations

from typing import Any

from bench.stats import percentile

GOAL_LAUNCHER_MS = 200.0  # launcher visible, after navigation start, on localhost (p50)
GOAL_ADDED_LONG_TASK_MS = 0.0  # main-thread long-task time the widget adds (p50)
GOAL_CLICK_READY_MS = 300.0  # click on the launcher → chat ready, after a hover (p50)
GOAL_PAGE_VIEW_REQUESTS = 2  # a page view without intent: the loader and the config GET


def _summary(values: list[float | None]) -> dict[str, Any]:
    seen = sorted(float(v) for v in values if v is not None)
    if not seen:
        return {"count": 0, "missing": len(values), "p50": None, "p95": None, "max": None}
    return {
        "count": len(seen),
        "missing": len(values) - len(seen),
        "p50": round(percentile(seen, 0.50), 1),
        "p95": round(percentile(seen, 0.95), 1),
        "min": round(seen[0], 1),
        "max": round(seen[-1], 1),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of the runs' visits summed up (count, missing, p50, p95, min, max), and
    what the page views without intent asked the platform for."""
    metrics: dict[str, Any] = {}
    for visit in ("cold", "warm"):
        rows = [run[visit] for run in runs]
        metrics[f"launcher_visible_ms_{visit}"] = _summary([r["launcher_ms"] for r in rows])
        metrics[f"launcher_in_dom_ms_{visit}"] = _summary([r["launcher_in_dom_ms"] for r in rows])
        metrics[f"core_ready_ms_{visit}"] = _summary([r["ready_ms"] for r in rows])
        metrics[f"long_task_ms_{visit}"] = _summary([r["long_task_ms"] for r in rows])
        metrics[f"long_task_ms_added_{visit}"] = _summary(
            [run[visit]["long_task_ms"] - run["bare"]["long_task_ms"] for run in runs]
        )
        metrics[f"load_event_ms_{visit}"] = _summary([r["load_ms"] for r in rows])
        metrics[f"first_contentful_paint_ms_{visit}"] = _summary([r["fcp_ms"] for r in rows])
        metrics[f"widget_bytes_{visit}"] = _summary([r["bytes"]["total"] for r in rows])
        metrics[f"loader_bytes_{visit}"] = _summary([r["bytes"]["loader"] for r in rows])
        metrics[f"core_bytes_{visit}"] = _summary([r["bytes"]["core"] for r in rows])
        metrics[f"page_view_requests_{visit}"] = _summary([len(r["requests"]) for r in rows])
        metrics[f"page_view_bytes_{visit}"] = _summary([r["bytes"]["platform"] for r in rows])
        metrics[f"page_view_sessions_{visit}"] = _summary(
            [sum(name.endswith("/widget/session") for name in r["requests"]) for r in rows]
        )
    for visit in ("hover_click", "click"):
        rows = [run[visit] for run in runs]
        metrics[f"click_to_ready_ms_{visit}"] = _summary([r["click_to_ready_ms"] for r in rows])
        metrics[f"requests_{visit}"] = _summary([len(r["requests"]) for r in rows])
        metrics[f"bytes_{visit}"] = _summary([r["bytes"]["platform"] for r in rows])
    bare = [run["bare"] for run in runs]
    metrics["long_task_ms_without_widget"] = _summary([r["long_task_ms"] for r in bare])
    metrics["load_event_ms_without_widget"] = _summary([r["load_ms"] for r in bare])
    metrics["first_contentful_paint_ms_without_widget"] = _summary([r["fcp_ms"] for r in bare])
    # What a page view without intent asked the platform for, e.g. {"GET /widget.js": 15}.
    metrics["page_view_requests_seen_cold"] = _tally(run["cold"]["requests"] for run in runs)
    metrics["page_view_requests_seen_warm"] = _tally(run["warm"]["requests"] for run in runs)
    return metrics


def _tally(visits: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for requests in visits:
        for name in requests:
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def judge_goals(metrics: dict[str, Any]) -> dict[str, Any]:
    """Each goal as text and whether the summed-up figures meet it."""
    goals: dict[str, Any] = {}
    for visit in ("cold", "warm"):
        launcher = metrics[f"launcher_visible_ms_{visit}"]
        goals[f"launcher_visible_{visit}"] = {
            "goal": f"p50 <= {GOAL_LAUNCHER_MS:.0f} ms",
            "pass": launcher["p50"] is not None
            and launcher["missing"] == 0
            and launcher["p50"] <= GOAL_LAUNCHER_MS,
        }
        added = metrics[f"long_task_ms_added_{visit}"]
        goals[f"long_task_added_{visit}"] = {
            "goal": f"p50 <= {GOAL_ADDED_LONG_TASK_MS:.0f} ms",
            "pass": added["p50"] is not None and added["p50"] <= GOAL_ADDED_LONG_TASK_MS,
        }
        requests = metrics[f"page_view_requests_{visit}"]
        goals[f"page_view_requests_{visit}"] = {
            "goal": f"max <= {GOAL_PAGE_VIEW_REQUESTS}",
            "pass": requests["max"] is not None and requests["max"] <= GOAL_PAGE_VIEW_REQUESTS,
        }
    ready = metrics["click_to_ready_ms_hover_click"]
    goals["click_to_ready_hover_click"] = {
        "goal": f"p50 <= {GOAL_CLICK_READY_MS:.0f} ms",
        "pass": ready["p50"] is not None
        and ready["missing"] == 0
        and ready["p50"] <= GOAL_CLICK_READY_MS,
    }
    return goals
