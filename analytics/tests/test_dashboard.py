"""The admin dashboard and its CSV: what each persona sees, and nothing of others'."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from analytics.presence import presence_enter, presence_leave
from analytics.services import EventIn, EventSource, events_record
from analytics.tests.metrics_fixtures import buckets, days_ago  # noqa: F401  (fixture)

URL = "/admin/analytics/dashboard/"
CSV_URL = "/admin/analytics/dashboard/export.csv"


def page(client: Client, user: Any, url: str = URL, **params: Any) -> Any:
    client.force_login(user)
    return client.get(url, params)


def chart_data(response: Any) -> dict[str, Any]:
    match = re.search(
        r'<script id="ca-dashboard-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the chart data block is missing"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


@pytest.mark.django_db
@pytest.mark.usefixtures("buckets")
class TestDashboard:
    def test_the_owner_sees_totals_funnel_and_domains(
        self, client: Client, owner: Any, agent: Any
    ) -> None:
        response = page(client, owner, agent=agent.public_id)
        assert response.status_code == 200
        html = response.content.decode()
        assert "shop.example.com" in html and "blog.example.org" in html
        assert "globex.example.net" not in html
        data = chart_data(response)
        assert data["grain"] == "day"
        assert [step["value"] for step in data["funnel"]] == [200, 50, 10, 8]
        assert sum(data["series"]["loads"]) == 200
        assert len(data["labels"]) == 30

    def test_it_runs_no_inline_script(self, client: Client, owner: Any) -> None:
        html = page(client, owner).content.decode()
        scripts = re.findall(r"<script([^>]*)>", html)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
        assert '/static/analytics/dashboard.js"' in html

    def test_a_short_range_is_charted_by_the_hour(self, client: Client, teammate: Any) -> None:
        yesterday = days_ago(1).date().isoformat()
        response = page(client, teammate, **{"from": yesterday, "to": yesterday})
        data = chart_data(response)
        assert data["grain"] == "hour"
        assert data["series"]["loads"][:4] == [10, 11, 12, 0]

    def test_it_counts_the_visitors_live_now(self, client: Client, owner: Any, agent: Any) -> None:
        async def connect_two() -> list[Any]:
            return [
                await presence_enter(agent_id=agent.public_id, connection_id=f"conn-{n}")
                for n in range(2)
            ]

        async def leave(tickets: list[Any]) -> None:
            for ticket in tickets:
                await presence_leave(ticket)

        loop = asyncio.new_event_loop()
        try:
            tickets = loop.run_until_complete(connect_two())
            html = page(client, owner, agent=agent.public_id).content.decode()
            assert re.search(r'data-dashboard="live">2<', html)
            loop.run_until_complete(leave(tickets))
        finally:
            loop.close()
        html = page(client, owner, agent=agent.public_id).content.decode()
        assert re.search(r'data-dashboard="live">0<', html)

    def test_it_rejects_other_workspace(self, client: Client, owner: Any, other_agent: Any) -> None:
        assert page(client, owner, agent=other_agent.public_id).status_code == 404
        assert page(client, owner, CSV_URL, agent=other_agent.public_id).status_code == 404
        assert page(client, owner, workspace="globex").status_code == 404

    def test_a_bad_filter_says_what_is_wrong(self, client: Client, owner: Any) -> None:
        response = page(client, owner, **{"from": "soon"})
        assert response.status_code == 400
        assert "must be a date" in response.content.decode()

    def test_staff_outside_every_workspace_are_refused(self, client: Client) -> None:
        loner = get_user_model().objects.create_user("loner", password="pw", is_staff=True)
        assert page(client, loner).status_code == 403

    def test_visitors_are_sent_to_the_login(self, client: Client) -> None:
        response = client.get(URL)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.usefixtures("buckets")
class TestCsv:
    def test_it_exports_one_line_per_bucket(self, client: Client, owner: Any, agent: Any) -> None:
        response = page(client, owner, CSV_URL, agent=agent.public_id)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith('attachment; filename="analytics-')
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [(r["domain"], r["variant"], r["loads"]) for r in rows] == [
            ("shop.example.com", "", "100"),
            ("blog.example.org", "greet:b", "50"),
            ("shop.example.com", "", "50"),
        ]
        assert rows[0]["load_time_p50_ms"] == "90.0"
        assert rows[0]["first_response_p95_ms"] == "990.0"

    def test_the_outsider_exports_only_their_own(self, client: Client, outsider: Any) -> None:
        response = page(client, outsider, CSV_URL)
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [(r["domain"], r["loads"]) for r in rows] == [("globex.example.net", "999")]


@pytest.mark.django_db
def test_without_beat_the_page_rolls_new_events_up_first(
    client: Client, owner: Any, agent: Any, settings: Any
) -> None:
    """`make run` (eager Celery) has no beat: the demo's own traffic still shows up."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    source = EventSource(
        workspace_id=agent.workspace_id,
        agent_id=agent.public_id,
        domain="shop.example.com",
        session_id="vis_demo",
    )
    events_record(source=source, events=[EventIn(name="load"), EventIn(name="open")])
    data = chart_data(page(client, owner, agent=agent.public_id))
    assert [step["value"] for step in data["funnel"]][:2] == [1, 1]
