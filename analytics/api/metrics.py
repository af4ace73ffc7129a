"""Summaries and time series of the roll-ups for integrators (`/api/v2/analytics/...`).

Both read MetricsBucket only, scoped to the caller's workspaces; an agent or workspace that
is not theirs answers 404, a malformed filter 400 (docs/api.md).
"""

from __future__ import annotations

from typing import TypedDict

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.dashboard import rollups_refresh_when_embedded
from analytics.selectors import (
    MetricsQuery,
    Summary,
    buckets_visible,
    metrics_query_parse,
    metrics_summary,
    metrics_timeseries,
)
from core.openapi import error_responses, typed_dict_schema

FILTERS = [
    OpenApiParameter("agent", str, description="An agent id (agt_…); default: all of yours."),
    OpenApiParameter("workspace", str, description="A workspace slug."),
    OpenApiParameter("from", str, description="First UTC day (2026-01-31) or ISO date-time."),
    OpenApiParameter("to", str, description="Last UTC day (included) or ISO date-time."),
    OpenApiParameter("domain", str, description="Only this site (host name)."),
    OpenApiParameter(
        "variant", str, description="'<experiment>:<variant>', or 'none' for no experiment."
    ),
]
GRAIN = OpenApiParameter("grain", str, enum=["hour", "day"], description="Default: day.")
NOT_YOURS = error_responses(404, e404="not_found: the agent or workspace is not yours")

# `from` is a keyword: the echo's type is spelled the functional way.
QueryEcho = TypedDict(
    "QueryEcho",
    {
        "agent": str | None,
        "workspace": str | None,
        "from": str,
        "to": str,
        "grain": str,
        "domain": str | None,
        "variant": str | None,
    },
)


class SummaryAnswer(TypedDict):
    query: QueryEcho
    summary: Summary


class Point(Summary):
    start: str  # ISO 8601, UTC


class TimeseriesAnswer(TypedDict):
    query: QueryEcho
    points: list[Point]


def _echo(query: MetricsQuery) -> QueryEcho:
    return {
        "agent": query.agent_id,
        "workspace": query.workspace_slug,
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "grain": query.grain,
        "domain": query.domain,
        "variant": query.variant,
    }


class SummaryView(APIView):
    """Totals and rates over a range: open rate, resolution rate, CSAT, p50/p95 times."""

    @extend_schema(
        operation_id="analytics_summary",
        parameters=FILTERS,
        responses={200: typed_dict_schema(SummaryAnswer), **NOT_YOURS},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        query = metrics_query_parse(request.query_params)
        rollups_refresh_when_embedded()
        summary = metrics_summary(buckets_visible(request.user, query))
        return Response({"query": _echo(query), "summary": summary})


class TimeseriesView(APIView):
    """One point per hour or day of the range (quiet ones are zeros, not gaps)."""

    @extend_schema(
        operation_id="analytics_timeseries",
        parameters=[*FILTERS, GRAIN],
        responses={200: typed_dict_schema(TimeseriesAnswer), **NOT_YOURS},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        query = metrics_query_parse(request.query_params)
        rollups_refresh_when_embedded()
        points = metrics_timeseries(buckets_visible(request.user, query), query)
        return Response({"query": _echo(query), "points": points})
