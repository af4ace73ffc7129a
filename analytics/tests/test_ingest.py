"""POST /api/v2/widget/events: validated, bounded, deduplicated, all-or-nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from analytics.models import WidgetEvent
from analytics.services import EventIn, EventSource, events_record
from conftest import SITE_ORIGIN
from widgets.models import WidgetConfig

URL = "/api/v2/widget/events"


def session_token(client: Client, agent: Any, origin: str = SITE_ORIGIN) -> str:
    response = client.post(
        "/api/v2/widget/session",
        data=json.dumps({"agentId": agent.public_id}),
        content_type="application/json",
        HTTP_ORIGIN=origin,
    )
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def post(client: Client, body: Any, origin: str = SITE_ORIGIN) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=raw, content_type="text/plain", HTTP_ORIGIN=origin)


def event(number: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"evt-{number:08d}", "type": "load", **extra}


@pytest.fixture
def token(client: Client, agent: Any) -> str:
    return session_token(client, agent)


@pytest.mark.django_db
class TestAccepted:
    def test_a_batch_is_stored_with_its_ids_and_times(self, client: Client, token: str) -> None:
        ts = (timezone.now() - timedelta(minutes=3)).replace(microsecond=0)
        response = post(
            client,
            {
                "token": token,
                "events": [
                    event(1, ts=ts.isoformat().replace("+00:00", "Z"), metadata={"ms": 180}),
                    event(2, type="open"),
                ],
            },
        )
        assert response.status_code == 202
        assert response.json() == {"accepted": 2}
        rows = list(WidgetEvent.objects.order_by("event_id"))
        assert [(r.event_id, r.event, r.domain) for r in rows] == [
            ("evt-00000001", "load", "shop.example.com"),
            ("evt-00000002", "open", "shop.example.com"),
        ]
        assert rows[0].occurred_at == ts
        assert rows[0].metadata == {"ms": 180}

    def test_a_retried_beacon_is_stored_once(self, client: Client, token: str) -> None:
        batch: dict[str, Any] = {"token": token, "events": [event(1), event(2, type="open")]}
        assert post(client, batch).status_code == 202
        batch["events"].append(event(3, type="close"))
        assert post(client, batch).status_code == 202  # the retry, plus one new event
        assert sorted(str(i) for i in WidgetEvent.objects.values_list("event_id", flat=True)) == [
            "evt-00000001",
            "evt-00000002",
            "evt-00000003",
        ]

    def test_an_event_without_id_is_still_accepted(self, client: Client, token: str) -> None:
        assert post(client, {"token": token, "events": [{"type": "open"}]}).status_code == 202
        assert WidgetEvent.objects.get().event_id is None

    def test_times_are_clamped_to_the_last_day(self, client: Client, token: str) -> None:
        before = timezone.now()
        long_ago = datetime(2020, 1, 1, tzinfo=UTC).isoformat()
        future = (before + timedelta(days=3)).isoformat()
        events = [event(1, ts=long_ago), event(2, ts=future), event(3)]
        assert post(client, {"token": token, "events": events}).status_code == 202
        after = timezone.now()
        stamps = dict(WidgetEvent.objects.values_list("event_id", "occurred_at"))
        assert before - timedelta(hours=24) <= stamps["evt-00000001"]
        assert stamps["evt-00000001"] <= after - timedelta(hours=24)
        assert before <= stamps["evt-00000002"] <= after
        assert before <= stamps["evt-00000003"] <= after


@pytest.mark.django_db
class TestRefused:
    @pytest.mark.parametrize(
        ("bad", "status"),
        [
            ({"id": "short"}, 400),
            ({"id": "has spaces in it"}, 400),
            ({"id": 12345678}, 400),
            ({"ts": "yesterday"}, 400),
            ({"ts": "2026-01-01T10:00:00"}, 400),  # no zone
            ({"ts": 1767261600000}, 400),
            ({"type": "csat"}, 400),  # the platform records these itself
            ({"type": "resolved"}, 400),
            ({"metadata": {"ms": -5}}, 400),
            ({"metadata": {"ms": "fast"}}, 400),
            ({"metadata": ["not", "an", "object"]}, 400),
            ({"metadata": {"blob": "x" * 3000}}, 413),
        ],
    )
    def test_one_bad_event_refuses_the_whole_batch(
        self, client: Client, token: str, bad: dict[str, Any], status: int
    ) -> None:
        events = [event(1), event(2, type="open"), {**event(3), **bad}]
        response = post(client, {"token": token, "events": events})
        assert response.status_code == status
        assert response.json()["error"]["code"] in ("invalid_request", "payload_too_large")
        assert WidgetEvent.objects.count() == 0

    def test_too_many_events_are_refused(self, client: Client, token: str) -> None:
        events = [event(n) for n in range(51)]
        assert post(client, {"token": token, "events": events}).status_code == 413
        assert WidgetEvent.objects.count() == 0

    def test_an_oversized_body_is_refused(self, client: Client, token: str) -> None:
        events = [event(n, metadata={"note": "x" * 1500}) for n in range(12)]  # > 16 KB
        assert post(client, {"token": token, "events": events}).status_code == 413
        assert WidgetEvent.objects.count() == 0

    def test_malformed_json_is_refused(self, client: Client, token: str) -> None:
        assert post(client, '{"token": "' + token + '", "events": [').status_code == 400
        assert WidgetEvent.objects.count() == 0

    def test_a_token_of_another_agent_is_refused(
        self, client: Client, token: str, other_agent: Any
    ) -> None:
        body = {"token": token, "agentId": other_agent.public_id, "events": [event(1)]}
        response = post(client, body)
        assert response.status_code == 401
        assert WidgetEvent.objects.count() == 0

    def test_a_token_from_another_site_is_refused(
        self, client: Client, token: str, other_agent: Any
    ) -> None:
        foreign = session_token(client, other_agent, origin="https://globex.example.net")
        for sent_from, batch_token in [
            ("https://globex.example.net", token),
            (SITE_ORIGIN, foreign),
        ]:
            response = post(client, {"token": batch_token, "events": [event(1)]}, sent_from)
            assert response.status_code == 403
        assert WidgetEvent.objects.count() == 0

    def test_a_site_the_agent_has_dropped_is_refused(
        self, client: Client, token: str, agent: Any
    ) -> None:
        config = WidgetConfig.objects.get(agent=agent)
        config.allowed_domains = ["elsewhere.example.com"]
        config.save()
        assert post(client, {"token": token, "events": [event(1)]}).status_code == 403
        assert WidgetEvent.objects.count() == 0


@pytest.mark.django_db
def test_server_events_with_the_same_id_are_stored_once(agent: Any) -> None:
    source = EventSource(
        workspace_id=agent.workspace_id, agent_id=agent.public_id, domain="", session_id="v1"
    )
    for _ in range(2):
        events_record(
            source=source,
            events=[EventIn(name="conversation_started", event_id="srv:started:cnv_1")],
        )
    events_record(source=source, events=[("handed_off", {"reason": "asked"})])
    assert WidgetEvent.objects.filter(event="conversation_started").count() == 1
    assert WidgetEvent.objects.get(event="handed_off").metadata == {"reason": "asked"}


@pytest.mark.django_db
def test_the_variant_is_stored_with_the_event(agent: Any) -> None:
    source = EventSource(
        workspace_id=agent.workspace_id,
        agent_id=agent.public_id,
        domain="",
        session_id="v1",
        variant="greeting:b",
    )
    events_record(source=source, events=[EventIn(name="open")])
    assert WidgetEvent.objects.get().variant == "greeting:b"
