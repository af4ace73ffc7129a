"""The widget bench's table: each figure's p50 and p95 beside its goal."""

from __future__ import annotations

from typing import Any

from bench.widget_metrics import (
    GOAL_ADDED_LONG_TASK_MS,
    GOAL_CLICK_READY_MS,
    GOAL_LAUNCHER_MS,
    GOAL_PAGE_VIEW_REQUESTS,
)

TABLE_ROWS = [
    ("launcher visible ms, cold", "launcher_visible_ms_cold", "launcher_visible_cold"),
    ("launcher visible ms, warm", "launcher_visible_ms_warm", "launcher_visible_warm"),
    ("core ready ms without intent, cold", "core_ready_ms_cold", None),
    ("core ready ms without intent, warm", "core_ready_ms_warm", None),
    ("load event ms, no widget", "load_event_ms_without_widget", None),
    ("load event ms, widget cold", "load_event_ms_cold", None),
    ("first contentful paint ms, no widget", "first_contentful_paint_ms_without_widget", None),
    ("first contentful paint ms, widget cold", "first_contentful_paint_ms_cold", None),
    ("long tasks ms, no widget", "long_task_ms_without_widget", None),
    ("long tasks ms, widget cold", "long_task_ms_cold", None),
    ("long tasks ms added, cold", "long_task_ms_added_cold", "long_task_added_cold"),
    ("long tasks ms added, warm", "long_task_ms_added_warm", "long_task_added_warm"),
    ("page view requests (no intent), cold", "page_view_requests_cold", "page_view_requests_cold"),
    ("page view requests (no intent), warm", "page_view_requests_warm", "page_view_requests_warm"),
    ("  sessions started, cold", "page_view_sessions_cold", None),
    ("page view bytes (no intent), cold", "page_view_bytes_cold", None),
    ("page view bytes (no intent), warm", "page_view_bytes_warm", None),
    ("widget bytes (loader+core), cold", "widget_bytes_cold", None),
    ("  loader bytes, cold", "loader_bytes_cold", None),
    ("  core bytes, cold", "core_bytes_cold", None),
    ("widget bytes (loader+core), warm", "widget_bytes_warm", None),
    (
        "click → chat ready ms, after a hover",
        "click_to_ready_ms_hover_click",
        "click_to_ready_hover_click",
    ),
    ("click → chat ready ms, no hover", "click_to_ready_ms_click", None),
    ("  requests to chat ready, after a hover", "requests_hover_click", None),
    ("  bytes to chat ready, after a hover", "bytes_hover_click", None),
]
GOAL_CELLS = {
    "launcher_visible": f"{GOAL_LAUNCHER_MS:.0f}",
    "long_task_added": f"{GOAL_ADDED_LONG_TASK_MS:.0f}",
    "page_view_requests": f"{GOAL_PAGE_VIEW_REQUESTS}",
    "click_to_ready": f"{GOAL_CLICK_READY_MS:.0f}",
}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 1000 or value.is_integer() else f"{value:.1f}"
    return str(value)


def widget_table(result: dict[str, Any]) -> list[str]:
    if "metrics" not in result:
        return [f"Widget in Chromium: {result.get('error', 'not measured')}"]
    metrics, goals = result["metrics"], result["goals"]
    header = f"Widget in Chromium {result['chromium']}, {result['runs_done']} runs"
    lines = [f"{header:<46}{'p50':>9}{'p95':>9}{'goal':>8}  result"]
    for label, key, goal_key in TABLE_ROWS:
        row = metrics[key]
        goal, verdict = "", ""
        if goal_key:
            goal = next(cell for prefix, cell in GOAL_CELLS.items() if goal_key.startswith(prefix))
            verdict = "PASS" if goals[goal_key]["pass"] else "FAIL"
        missing = f"  ({row['missing']} missing)" if row.get("missing") else ""
        lines.append(
            f"  {label:<44}{_cell(row['p50']):>9}{_cell(row['p95']):>9}{goal:>8}  "
            f"{verdict}{missing}".rstrip()
        )
    encodings = sorted(
        {f"{k}={v}" for run in result["runs"] for k, v in run["cold"]["encodings"].items()}
    )
    lines.append(f"  content-encoding (cold): {', '.join(encodings) or '-'}")
    seen = metrics["page_view_requests_seen_cold"]
    lines.append(
        f"  asked for in {result['runs_done']} cold page views without intent: "
        + (", ".join(f"{name} x{count}" for name, count in seen.items()) or "nothing")
    )
    lines.append(f"  mode {result['mode']}: {result['mode_description']}")
    for failure in result.get("failures", []):
        lines.append(f"  {failure}")
    return lines
