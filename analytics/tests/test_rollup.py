from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from analytics.models import DailyEventCount, WidgetEvent
from analytics.tasks import rollup_daily_event_counts
from conftest import SITE_ORIGIN


def session(client: Client, agent) -> dict:
    return client.post(
        "/api/v2/widget/session",
        data=json.dumps({"agentId": agent.public_id}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    ).json()


def send_events(
    client: Client,
    token: str,
    events: list,
    origin: str = SITE_ORIGIN,
    content_type: str = "text/plain",
):
    return client.post(
        "/api/v2/widget/events",
        data=json.dumps({"token": token, "events": events}),
        content_type=content_type,
        HTTP_ORIGIN=origin,
    )


@pytest.mark.django_db
class TestEvents:
    def test_a_beacon_batch_is_stored(self, client: Client, agent) -> None:
        token = session(client, agent)["token"]
        response = send_events(
            client, token, [{"type": "load"}, {"type": "open", "metadata": {"a": 1}}]
        )
        assert response.status_code == 202
        assert response["Access-Control-Allow-Origin"] == SITE_ORIGIN
        rows = WidgetEvent.objects.order_by("id")
        assert [(r.event, r.domain, r.agent_id) for r in rows] == [
            ("load", "shop.example.com", agent.public_id),
            ("open", "shop.example.com", agent.public_id),
        ]

    @pytest.mark.parametrize(
        ("events", "status"),
        [
            ([], 400),
            ([{"type": "Bad Type!"}], 400),
            ([{"type": "x"}] * 51, 413),
            ([{"type": "x", "metadata": {"k": "v" * 3000}}], 413),
            ("nope", 400),
        ],
    )
    def test_bad_batches_are_refused_whole(self, client: Client, agent, events, status) -> None:
        token = session(client, agent)["token"]
        assert send_events(client, token, events).status_code == status
        assert WidgetEvent.objects.count() == 0

    def test_a_forged_token_or_origin_is_refused(self, client: Client, agent) -> None:
        token = session(client, agent)["token"]
        assert send_events(client, token + "x", [{"type": "load"}]).status_code == 401
        assert (
            send_events(
                client, token, [{"type": "load"}], origin="https://blog.example.org"
            ).status_code
            == 403
        )


def wait_for(predicate, seconds: float = 15.0, why=lambda: "") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"the Celery task never finished: {why()}"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_daily_rollup_is_idempotent_through_celery(agent) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for name in ["load", "load", "open"]:
        event = WidgetEvent.objects.create(
            workspace=agent.workspace, agent_id=agent.public_id, event=name
        )
        WidgetEvent.objects.filter(pk=event.pk).update(created_at=yesterday)
    WidgetEvent.objects.create(workspace=agent.workspace, agent_id=agent.public_id, event="load")

    rollup_daily_event_counts.delay()
    wait_for(
        lambda: DailyEventCount.objects.count() == 3,
        why=lambda: list(DailyEventCount.objects.values_list("day", "event", "count")),
    )
    first = sorted(DailyEventCount.objects.values_list("day", "event", "count"))
    DailyEventCount.objects.update(count=999)  # a re-run must restore the true numbers
    rollup_daily_event_counts.delay()
    wait_for(lambda: not DailyEventCount.objects.filter(count=999).exists())
    assert sorted(DailyEventCount.objects.values_list("day", "event", "count")) == first
    assert first == sorted(
        [
            (yesterday.date(), "load", 2),
            (yesterday.date(), "open", 1),
            (datetime.now(UTC).date(), "load", 1),
        ]
    )
    assert rollup_daily_event_counts(day=yesterday.date().isoformat()) == 2
