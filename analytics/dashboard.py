"""The analytics dashboard in the admin (`/admin/analytics/dashboard/`) and its CSV export.

The page reads the roll-ups only (analytics.selectors) and the live presence counts. Its
charts are drawn by `frontend/src/admin/dashboard.js` (Chart.js, bundled; served as
`static/analytics/dashboard.js`) from a `<script type="application/json">` block: the
platform's CSP runs scripts only from itself, so nothing here is inline script.
"""

from __future__ import annotations

import csv
import dataclasses
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from analytics.presence import presence_counts
from analytics.selectors import (
    NO_VARIANT,
    AgentOption,
    MetricsQuery,
    Report,
    agents_visible,
    buckets_visible,
    metrics_csv_rows,
    metrics_query_parse,
    metrics_report,
)
from analytics.tasks import rollup_metrics
from core.errors import InvalidRequest, NotFound

# Ranges this short are charted hour by hour unless the filter says otherwise.
HOURLY_UP_TO = timedelta(days=2)
FUNNEL = (
    ("Widget loads", "loads"),
    ("Opens", "opens"),
    ("Conversations", "conversations"),
    ("Resolved", "resolved"),
)


def rollups_refresh_when_embedded() -> None:
    """Embedded mode (`make run`: eager Celery) has no beat to roll events up: whoever
    reads the roll-ups brings them up to date first (incremental, so cheap). With a broker,
    beat does it and this does nothing."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        rollup_metrics()


def _query(params: QueryDict) -> MetricsQuery:
    query = metrics_query_parse(params)
    if not params.get("grain") and query.grain == "day" and query.end - query.start <= HOURLY_UP_TO:
        query = dataclasses.replace(query, grain="hour")
    return query


def _chart_data(report: Report, query: MetricsQuery) -> dict[str, Any]:
    """What dashboard.js draws: one list per series, aligned with `labels`."""
    points = report.timeseries

    def series(name: str, part: str | None = None) -> list[Any]:
        return [point[name][part] if part else point[name] for point in points]

    summary = report.summary
    return {
        "grain": query.grain,
        "labels": [point["start"] for point in points],
        "series": {
            "loads": series("loads"),
            "opens": series("opens"),
            "conversations": series("conversations"),
            "resolved": [p["resolvedBot"] + p["resolvedHuman"] for p in points],
            "handoffs": series("handoffs"),
            "errors": series("errors"),
            "openRate": series("openRate"),
            "resolutionRate": series("resolutionRate"),
            "csatAverage": series("csatAverage"),
            "firstResponseP50": series("firstResponseMs", "p50"),
            "firstResponseP95": series("firstResponseMs", "p95"),
            "loadTimeP50": series("loadTimeMs", "p50"),
            "loadTimeP95": series("loadTimeMs", "p95"),
        },
        "funnel": [
            {
                "label": label,
                "value": summary["resolvedBot"] + summary["resolvedHuman"]
                if key == "resolved"
                else summary[key],  # type: ignore[literal-required]
            }
            for label, key in FUNNEL
        ],
    }


def _live_now(agents: list[AgentOption], query: MetricsQuery) -> int:
    ids = [
        a["id"]
        for a in agents
        if (not query.agent_id or a["id"] == query.agent_id)
        and (not query.workspace_slug or a["workspace"] == query.workspace_slug)
    ]
    return sum(presence_counts(ids).values()) if ids else 0


def _require_member(request: HttpRequest) -> list[AgentOption]:
    agents = agents_visible(request.user)
    user = request.user
    if not user.is_superuser and not user.memberships.exists():  # type: ignore[union-attr]
        raise PermissionDenied("The dashboard is for members of a workspace.")
    return agents


def dashboard_page(request: HttpRequest) -> HttpResponse:
    """Charts, funnel, domains and live visitors for the filtered agent(s) and range."""
    agents = _require_member(request)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Analytics",
        "agents": agents,
        "workspaces": sorted({(a["workspace"], a["workspaceName"]) for a in agents}),
        "params": request.GET,
        "no_variant": NO_VARIANT,
    }
    status = 200
    rollups_refresh_when_embedded()
    try:
        query = _query(request.GET)
        report = metrics_report(buckets_visible(request.user, query), query)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except InvalidRequest as exc:
        context["error"], status = exc.message, 400
    else:
        context.update(
            query=query,
            last_day=(query.end - timedelta(seconds=1)).date(),
            report=report,
            summary=report.summary,
            live_now=_live_now(agents, query),
            chart_data=_chart_data(report, query),
            csv_query=request.GET.urlencode(),
        )
    response = TemplateResponse(request, "admin/analytics/dashboard.html", context, status=status)
    add_never_cache_headers(response)
    return response


class _Echo:
    """A file-like object whose write returns the line (csv.writer into a response)."""

    def write(self, value: str) -> str:
        return value


def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """The filtered buckets, one line each (the dashboard's filters; 404 for others')."""
    _require_member(request)
    rollups_refresh_when_embedded()
    try:
        query = _query(request.GET)
        buckets = buckets_visible(request.user, query)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except InvalidRequest as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain")
    writer = csv.writer(_Echo())
    body = "".join(writer.writerow(row) for row in metrics_csv_rows(buckets))
    name = f"analytics-{query.start:%Y%m%d}-{(query.end - timedelta(seconds=1)):%Y%m%d}.csv"
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    add_never_cache_headers(response)
    return response
