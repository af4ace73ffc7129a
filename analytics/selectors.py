"""Reading the roll-ups for the dashboard, the REST API and the CSV export.

Everything here reads MetricsBucket only — never raw events — scoped to the user's
workspaces, so a dashboard over months of traffic reads a few thousand small rows.
Agents and workspaces are reached through the bucket's workspace relation (declared by
string), as the scoping does, never by importing the agents app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

from django.db.models import Model, QuerySet
from django.utils import timezone

from analytics.histograms import histogram_merge, histogram_summary
from analytics.models import MetricsBucket
from core.errors import InvalidRequest, NotFound
from workspaces.scoping import scope_to_user

DEFAULT_DAYS = 30
MAX_DAYS = 400
MAX_HOUR_GRAIN_DAYS = 31
NO_VARIANT = "none"
GRAIN_STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
ADDED = (
    "loads",
    "opens",
    "visitors",
    "conversations",
    "customer_messages",
    "agent_messages",
    "handoffs",
    "resolved_bot",
    "resolved_human",
    "csat_count",
    "csat_sum",
    "errors",
)
HISTOGRAMS = ("first_response_hist", "load_time_hist")


class Percentiles(TypedDict):
    p50: float | None
    p95: float | None


class Summary(TypedDict):
    loads: int
    opens: int
    openRate: float | None
    visitors: int
    conversations: int
    customerMessages: int
    agentMessages: int
    messagesPerConversation: float | None
    handoffs: int
    resolvedBot: int
    resolvedHuman: int
    resolutionRate: float | None
    botResolutionRate: float | None
    csatCount: int
    csatAverage: float | None
    errors: int
    firstResponseMs: Percentiles
    loadTimeMs: Percentiles


class AgentOption(TypedDict):
    id: str
    name: str
    workspace: str  # slug
    workspaceName: str


@dataclass(frozen=True)
class MetricsQuery:
    """What to read: a [start, end) range in UTC and optional narrowing."""

    start: datetime
    end: datetime
    grain: str = "day"
    agent_id: str | None = None
    workspace_slug: str | None = None
    domain: str | None = None
    variant: str | None = None


@dataclass
class Totals:
    """Sums of a set of buckets, and their merged histograms."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ADDED, 0))
    histograms: dict[str, list[list[int]]] = field(
        default_factory=lambda: {name: [] for name in HISTOGRAMS}
    )

    def add(self, row: Mapping[str, Any]) -> None:
        for name in ADDED:
            self.counts[name] += row[name]
        for name in HISTOGRAMS:
            if row[name]:
                self.histograms[name].append(row[name])

    def summary(self) -> Summary:
        c = self.counts
        resolved = c["resolved_bot"] + c["resolved_human"]
        return {
            "loads": c["loads"],
            "opens": c["opens"],
            "openRate": _rate(c["opens"], c["loads"]),
            "visitors": c["visitors"],
            "conversations": c["conversations"],
            "customerMessages": c["customer_messages"],
            "agentMessages": c["agent_messages"],
            "messagesPerConversation": _rate(
                c["customer_messages"] + c["agent_messages"], c["conversations"]
            ),
            "handoffs": c["handoffs"],
            "resolvedBot": c["resolved_bot"],
            "resolvedHuman": c["resolved_human"],
            "resolutionRate": _rate(resolved, c["conversations"]),
            "botResolutionRate": _rate(c["resolved_bot"], c["conversations"]),
            "csatCount": c["csat_count"],
            "csatAverage": _rate(c["csat_sum"], c["csat_count"], digits=2),
            "errors": c["errors"],
            "firstResponseMs": self._percentiles("first_response_hist"),
            "loadTimeMs": self._percentiles("load_time_hist"),
        }

    def _percentiles(self, name: str) -> Percentiles:
        values = histogram_summary(histogram_merge(self.histograms[name]))
        return {"p50": values["p50"], "p95": values["p95"]}


def _rate(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _workspaces(user: Any) -> QuerySet[Model]:
    """The user's workspaces, through the bucket's relation (no import of the agents app)."""
    model: type[Model] = MetricsBucket._meta.get_field("workspace").related_model
    return scope_to_user(model._default_manager.all(), user)


def agents_visible(user: Any) -> list[AgentOption]:
    """The agents of the user's workspaces (for the dashboard's filter)."""
    workspaces = _workspaces(user)
    rows = (
        workspaces.filter(agents__isnull=False)
        .values_list("agents__public_id", "agents__name", "slug", "name")
        .order_by("name", "agents__name")
    )
    return [
        {"id": agent_id, "name": name, "workspace": slug, "workspaceName": workspace}
        for agent_id, name, slug, workspace in rows
    ]


def _parse_moment(value: str, name: str, *, end: bool) -> datetime:
    """A day (whole UTC day; an end day is included) or an ISO date-time with a zone."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None:
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return moment + timedelta(days=1) if end else moment
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidRequest(f"'{name}' must be a date (2026-01-31) or a date-time with a zone.")
    return parsed.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def metrics_query_parse(params: Mapping[str, str], *, default_grain: str = "day") -> MetricsQuery:
    """Read `from`, `to`, `grain`, `agent`, `workspace`, `domain`, `variant` (400 on nonsense)."""
    grain = params.get("grain") or default_grain
    if grain not in GRAIN_STEP:
        raise InvalidRequest("'grain' must be 'hour' or 'day'.")
    today = timezone.now().astimezone(UTC).date()
    end = _parse_moment(params["to"], "to", end=True) if params.get("to") else None
    end = end or datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
    if params.get("from"):
        start = _parse_moment(params["from"], "from", end=False)
    else:
        start = end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise InvalidRequest("'from' must be before 'to'.")
    if grain == "day" and (start.hour or end.hour):
        grain = "hour"  # a range that starts or ends inside a day is read from hours
    limit = MAX_HOUR_GRAIN_DAYS if grain == "hour" else MAX_DAYS
    if end - start > timedelta(days=limit):
        raise InvalidRequest(f"With grain={grain} a range covers at most {limit} days.")
    variant = params.get("variant") or None
    return MetricsQuery(
        start=start,
        end=end,
        grain=grain,
        agent_id=params.get("agent") or None,
        workspace_slug=params.get("workspace") or None,
        domain=params.get("domain") or None,
        # Experiment variants read "<experiment>:<variant>"; "none" is traffic in none.
        variant="" if variant == NO_VARIANT else variant,
    )


def buckets_visible(user: Any, query: MetricsQuery) -> QuerySet[MetricsBucket]:
    """The query's buckets among the user's; a named agent or workspace that is not theirs
    is a 404, whether or not it exists."""
    workspaces = _workspaces(user)
    # By workspace id rather than scope_to_user(MetricsBucket): the membership join there
    # needs a DISTINCT over every column, histograms included, which is slow.
    rows = MetricsBucket.objects.filter(workspace_id__in=workspaces.values("pk"))
    if query.agent_id:
        if not workspaces.filter(agents__public_id=query.agent_id).exists():
            raise NotFound("No agent of yours has this id.")
        rows = rows.filter(agent_id=query.agent_id)
    if query.workspace_slug:
        if not workspaces.filter(slug=query.workspace_slug).exists():
            raise NotFound("No workspace of yours has this slug.")
        rows = rows.filter(workspace__slug=query.workspace_slug)
    if query.domain is not None:
        rows = rows.filter(domain=query.domain)
    if query.variant is not None:
        rows = rows.filter(variant=query.variant)
    return rows.filter(grain=query.grain, start__gte=query.start, start__lt=query.end)


def _rows(buckets: QuerySet[MetricsBucket]) -> Iterable[dict[str, Any]]:
    rows: Iterable[dict[str, Any]] = buckets.order_by().values(
        "start", "domain", "variant", *ADDED, *HISTOGRAMS
    )
    return rows


@dataclass(frozen=True)
class Report:
    """Everything the dashboard shows, from one read of the buckets."""

    summary: Summary
    timeseries: list[dict[str, Any]]
    domains: list[dict[str, Any]]
    variants: list[str]


def _dense(by_start: dict[datetime, Totals], query: MetricsQuery) -> list[dict[str, Any]]:
    """One point per step of the range: a quiet hour is a zero, not a gap."""
    series = []
    step = GRAIN_STEP[query.grain]
    moment = query.start
    while moment < query.end:
        series.append({"start": moment.isoformat(), **by_start.get(moment, Totals()).summary()})
        moment += step
    return series


def metrics_report(buckets: QuerySet[MetricsBucket], query: MetricsQuery) -> Report:
    total = Totals()
    by_start: dict[datetime, Totals] = {}
    by_domain: dict[str, Totals] = {}
    variants: set[str] = set()
    for row in _rows(buckets):
        total.add(row)
        by_start.setdefault(row["start"], Totals()).add(row)
        by_domain.setdefault(row["domain"], Totals()).add(row)
        variants.add(row["variant"])
    domains = [
        {"domain": domain, **totals.summary()}
        for domain, totals in sorted(by_domain.items(), key=lambda item: -item[1].counts["loads"])
    ]
    return Report(total.summary(), _dense(by_start, query), domains, sorted(variants))


def metrics_timeseries(
    buckets: QuerySet[MetricsBucket], query: MetricsQuery
) -> list[dict[str, Any]]:
    """The time series alone (the API's): a third of the report's work."""
    by_start: dict[datetime, Totals] = {}
    for row in _rows(buckets):
        by_start.setdefault(row["start"], Totals()).add(row)
    return _dense(by_start, query)


def metrics_summary(buckets: QuerySet[MetricsBucket]) -> Summary:
    total = Totals()
    for row in _rows(buckets):
        total.add(row)
    return total.summary()


CSV_COLUMNS = (
    "start",
    "grain",
    "agent_id",
    "domain",
    "variant",
    *ADDED,
    "first_response_p50_ms",
    "first_response_p95_ms",
    "load_time_p50_ms",
    "load_time_p95_ms",
)


def metrics_csv_rows(buckets: QuerySet[MetricsBucket]) -> Iterable[list[Any]]:
    """One line per bucket, oldest first, with percentiles read from its histograms."""
    yield list(CSV_COLUMNS)
    rows = buckets.order_by("start", "agent_id", "domain", "variant").values(
        "start", "grain", "agent_id", "domain", "variant", *ADDED, *HISTOGRAMS
    )
    for row in rows.iterator(chunk_size=2000):
        first = histogram_summary(row["first_response_hist"])
        load = histogram_summary(row["load_time_hist"])
        yield [
            row["start"].isoformat(),
            row["grain"],
            row["agent_id"],
            row["domain"],
            row["variant"],
            *(row[name] for name in ADDED),
            first["p50"],
            first["p95"],
            load["p50"],
            load["p95"],
        ]
