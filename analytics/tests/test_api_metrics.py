"""GET /api/v2/analytics/summary and /timeseries: numbers, filters, scoping, errors."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from django.test import Client

from analytics.tests.metrics_fixtures import buckets, days_ago  # noqa: F401  (fixture)


def get(client: Client, user: Any, path: str, **params: Any) -> Any:
    client.force_login(user)
    return client.get(f"/api/v2/analytics/{path}", params)


@pytest.mark.django_db
@pytest.mark.usefixtures("buckets")
class TestSummary:
    def test_the_owner_reads_totals_and_rates(self, client: Client, owner: Any, agent: Any) -> None:
        response = get(client, owner, "summary", agent=agent.public_id)
        assert response.status_code == 200
        summary = response.json()["summary"]
        assert summary["loads"] == 200
        assert summary["opens"] == 50
        assert summary["openRate"] == 0.25
        assert summary["conversations"] == 10
        assert summary["messagesPerConversation"] == 6.0
        assert summary["resolutionRate"] == 0.8
        assert summary["botResolutionRate"] == 0.6
        assert summary["csatAverage"] == 4.5
        assert summary["loadTimeMs"] == {"p50": 90.0, "p95": 99.0}
        assert summary["firstResponseMs"] == {"p50": 897.0, "p95": 990.0}

    def test_filters_narrow_by_day_domain_and_variant(
        self, client: Client, teammate: Any, agent: Any
    ) -> None:
        yesterday = days_ago(1).date().isoformat()
        by_day = get(client, teammate, "summary", **{"from": yesterday, "to": yesterday})
        assert by_day.json()["summary"]["loads"] == 100
        by_domain = get(client, teammate, "summary", domain="blog.example.org")
        assert by_domain.json()["summary"]["loads"] == 50
        no_experiment = get(client, teammate, "summary", variant="none")
        assert no_experiment.json()["summary"]["loads"] == 150
        variant = get(client, teammate, "summary", variant="greet:b")
        assert variant.json()["summary"]["openRate"] == 0.4

    def test_it_rejects_other_workspaces_agent(
        self, client: Client, owner: Any, other_agent: Any
    ) -> None:
        response = get(client, owner, "summary", agent=other_agent.public_id)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert get(client, owner, "summary", workspace="globex").status_code == 404

    def test_without_a_filter_each_user_sees_only_theirs(
        self, client: Client, owner: Any, outsider: Any
    ) -> None:
        assert get(client, owner, "summary").json()["summary"]["loads"] == 200
        assert get(client, outsider, "summary").json()["summary"]["loads"] == 999

    @pytest.mark.parametrize(
        "params",
        [
            {"from": "yesterday"},
            {"from": "2026-03-01T10:00:00"},  # no zone
            {"from": "2026-03-05", "to": "2026-03-01"},
            {"from": "2020-01-01", "to": "2026-01-01"},
            {"grain": "week"},
        ],
    )
    def test_a_bad_filter_is_a_typed_400(
        self, client: Client, owner: Any, params: dict[str, str]
    ) -> None:
        response = get(client, owner, "timeseries", **params)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"

    def test_strangers_are_turned_away(self, client: Client) -> None:
        assert client.get("/api/v2/analytics/summary").status_code == 401


@pytest.mark.django_db
@pytest.mark.usefixtures("buckets")
class TestTimeseries:
    def test_days_come_dense_and_in_order(self, client: Client, owner: Any, agent: Any) -> None:
        start, end = days_ago(3).date().isoformat(), days_ago(0).date().isoformat()
        response = get(
            client, owner, "timeseries", agent=agent.public_id, **{"from": start, "to": end}
        )
        body = response.json()
        assert body["query"]["grain"] == "day"
        assert [p["loads"] for p in body["points"]] == [0, 100, 100, 0]
        assert body["points"][1]["start"] == days_ago(2).isoformat()
        assert body["points"][0]["openRate"] is None

    def test_hours_come_from_the_hour_buckets(self, client: Client, owner: Any) -> None:
        start = days_ago(1)
        response = get(
            client,
            owner,
            "timeseries",
            grain="hour",
            **{"from": start.isoformat(), "to": (start + timedelta(hours=4)).isoformat()},
        )
        body = response.json()
        assert body["query"]["grain"] == "hour"
        assert [p["loads"] for p in body["points"]] == [10, 11, 12, 0]

    def test_a_range_inside_a_day_is_read_by_the_hour(self, client: Client, owner: Any) -> None:
        start = days_ago(1).replace(tzinfo=UTC) + timedelta(hours=1)
        response = get(client, owner, "timeseries", **{"from": start.isoformat()})
        assert response.json()["query"]["grain"] == "hour"
