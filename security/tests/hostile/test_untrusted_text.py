"""Text that is not valid Unicode, sent through every door: refused once at the edge.

A lone surrogate (`"\\ud800"`, half of a UTF-16 pair) decodes fine in Python but cannot be
encoded, hashed as UTF-8 or read back from SQLite; NUL is refused by PostgreSQL. Every JSON
entry point refuses both with a typed error, stores nothing, and stays usable. Rows that
older versions stored anyway no longer stop the background tasks of every tenant.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.utils import timezone

from agents.models import Agent, KnowledgeArticle
from analytics.models import MetricsBucket, WidgetErrorGroup, WidgetEvent
from analytics.monitoring.error_groups import error_groups_update
from analytics.rollups import buckets_recompute, floor_hour
from conversations.models import Message
from conversations.tests.test_consumer import connect, frames_until, issue
from conversations.tests.test_inbox import inbox_ready
from customers.models import Customer
from security.abuse import message_score
from security.tests.hostile.conftest import SITE_A

LONE = "\\ud800"  # as it travels in JSON: an escape, which json.loads turns into U+D800
SITE_B_HOST = "globex.example.net"


def post_raw(client: Client, path: str, body: bytes, **headers: str) -> Any:
    return client.post(
        path, data=body, content_type="application/json", headers={"origin": SITE_A, **headers}
    )


def assert_refused_as_invalid_text(response: Any) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "not valid Unicode" in error["message"]


# --- The widget's HTTP endpoints -------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        f'"url": "https://shop.acme.example/{LONE}"',
        f'"customer": {{"id": "c-1", "name": "Eve {LONE}"}}',
        f'"referrer": "x", "{LONE}": 1',  # a key
    ],
)
def test_a_session_with_a_lone_surrogate_is_refused_and_stores_nothing(
    client: Client, agent_a: Agent, fields: str
) -> None:
    body = f'{{"agentId": "{agent_a.public_id}", {fields}}}'.encode()
    assert_refused_as_invalid_text(post_raw(client, "/api/v2/widget/session", body))
    assert not Customer.objects.exists()


def test_raw_utf8_bytes_of_a_surrogate_are_refused_too(client: Client, agent_a: Agent) -> None:
    # json.loads decodes bytes with "surrogatepass": ED A0 80 becomes U+D800, not an error.
    body = b'{"agentId": "' + agent_a.public_id.encode() + b'", "url": "\xed\xa0\x80"}'
    assert_refused_as_invalid_text(post_raw(client, "/api/v2/widget/session", body))


def test_events_with_bad_text_in_metadata_are_refused_and_none_is_stored(
    client: Client, agent_a: Agent, visitor_session: Any
) -> None:
    token = visitor_session(agent_a)["token"]
    before = WidgetEvent.objects.count()
    for metadata in (f'{{"message": "boom {LONE}"}}', '{"message": "nul \\u0000"}'):
        body = (
            f'{{"token": "{token}", "events": [{{"type": "open"}},'
            f'{{"type": "error", "metadata": {metadata}}}]}}'
        ).encode()
        response = post_raw(client, "/api/v2/widget/events", body)
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "invalid_request"
        assert "events[1].metadata.message" in response.json()["error"]["message"]
    nan = f'{{"token": "{token}", "events": [{{"type": "load", "metadata": {{"ms": NaN}}}}]}}'
    assert post_raw(client, "/api/v2/widget/events", nan.encode()).status_code == 400
    assert WidgetEvent.objects.count() == before


# --- The staff REST API ----------------------------------------------------------------


def test_a_staff_api_body_with_a_lone_surrogate_is_refused(
    client: Client, agent_a: Agent, write_key: str
) -> None:
    body = f'{{"title": "Returns {LONE}", "body": "Within 30 days."}}'.encode()
    response = client.post(
        f"/api/v2/agents/{agent_a.public_id}/knowledge",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {write_key}",
    )
    assert_refused_as_invalid_text(response)
    assert not KnowledgeArticle.objects.filter(title__startswith="Returns").exists()
    good = client.post(
        f"/api/v2/agents/{agent_a.public_id}/knowledge",
        data=b'{"title": "Returns", "body": "Within 30 days."}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {write_key}",
    )
    assert good.status_code == 201, good.content


# --- The websockets --------------------------------------------------------------------


async def widget_socket(agent: Agent) -> WebsocketCommunicator:
    token, _ = await sync_to_async(issue)(agent, origin=SITE_A)
    communicator, connected, _ = await connect(token, origin=SITE_A)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "session.ready"
    return communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
@pytest.mark.parametrize(
    "frame",
    [
        f'{{"type": "message.send", "clientId": "c-1", "text": "hello {LONE}"}}',
        f'{{"type": "message.send", "clientId": "c-{LONE}", "text": "hello"}}',
        '{"type": "message.send", "clientId": "c-1", "text": "hello \\u0000"}',
        '{"type": "message.send", "clientId": "c-1", "text": "hello \ud800"}',  # unescaped
    ],
)
async def test_a_message_with_bad_text_is_refused_and_the_socket_goes_on(
    agent_a: Agent, frame: str
) -> None:
    communicator = await widget_socket(agent_a)
    await communicator.send_to(text_data=frame)
    refusal = await communicator.receive_json_from(timeout=5)
    assert refusal["type"] == "error" and refusal["code"] == "invalid_frame"
    assert await sync_to_async(Message.objects.count)() == 0
    await communicator.send_json_to({"type": "message.send", "clientId": "c-2", "text": "hi"})
    frames = await frames_until(communicator, lambda f: f["type"] == "message.ack")
    assert frames[-1]["clientId"] == "c-2"
    stored = await sync_to_async(lambda: list(Message.objects.values_list("text", flat=True)))()
    assert "hi" in stored and not any("hello" in text for text in stored)
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_an_inbox_command_with_a_lone_surrogate_is_refused_and_the_socket_goes_on(
    owner_a: Any,
) -> None:
    communicator, _ = await inbox_ready(owner_a)
    await communicator.send_to(text_data=f'{{"type": "open", "conversationId": "{LONE}"}}')
    assert (await communicator.receive_json_from(timeout=5))["code"] == "invalid_frame"
    await communicator.send_json_to({"type": "open", "conversationId": "cnv_missing"})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "not_found"
    await communicator.disconnect()


def test_abuse_scoring_does_not_raise_on_a_lone_surrogate() -> None:
    verdict = message_score(visitor_id="vis_odd", text="spam \ud800 spam")
    assert verdict.score == 0


# --- Rows stored by older versions -----------------------------------------------------

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="PostgreSQL never stores a lone surrogate (jsonb refuses it), so no such row exists",
)


def stored_event(agent: Agent, event: str, metadata: dict[str, Any], *, ago: timedelta) -> int:
    """An event as older versions stored it (the ORM escapes the surrogate into JSON text)."""
    row = WidgetEvent.objects.create(
        workspace_id=agent.workspace_id,
        agent_id=agent.public_id,
        domain="shop.acme.example",
        event=event,
        session_id="vis_old",
        metadata=metadata,
    )
    moment = timezone.now() - ago
    WidgetEvent.objects.filter(pk=row.pk).update(created_at=moment, occurred_at=moment)
    return row.pk


def raw_surrogate_bytes(event_id: int) -> None:
    """Metadata whose stored bytes are themselves invalid UTF-8 (written around the ORM)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE analytics_widgetevent SET metadata = "
            "json_object('code', 'boom', 'message', char(55296)) WHERE id = %s",
            [event_id],
        )


@sqlite_only
@pytest.mark.parametrize("stored_as", ["escaped", "raw bytes"])
def test_a_bad_stored_event_does_not_stop_grouping_the_others(
    agent_a: Agent, agent_b: Agent, stored_as: str, caplog: Any
) -> None:
    bad = stored_event(
        agent_a, "error", {"code": "boom", "message": "x\ud800"}, ago=timedelta(minutes=5)
    )
    if stored_as == "raw bytes":
        raw_surrogate_bytes(bad)
    stored_event(
        agent_b, "error", {"code": "net", "message": "fetch failed"}, ago=timedelta(minutes=5)
    )
    with caplog.at_level(logging.WARNING, logger="analytics"):
        error_groups_update()
    assert WidgetErrorGroup.objects.get(agent_id=agent_b.public_id).count == 1
    assert WidgetErrorGroup.objects.get(agent_id=agent_a.public_id).count == 1  # cleaned
    assert sum(1 for r in caplog.records if "not valid Unicode" in r.getMessage()) == 1
    cleaned = WidgetEvent.objects.get(pk=bad).metadata
    if stored_as == "escaped":
        assert cleaned == {"code": "boom", "message": "x\ufffd"}
    else:
        assert cleaned is None  # the database could not even hand it back
    stored_event(agent_b, "error", {"code": "net", "message": "fetch failed"}, ago=timedelta(0))
    caplog.clear()
    error_groups_update(now=timezone.now() + timedelta(minutes=2))  # the next run: no repair
    assert WidgetErrorGroup.objects.get(agent_id=agent_b.public_id).count == 2
    assert not [r for r in caplog.records if "not valid Unicode" in r.getMessage()]


@sqlite_only
def test_a_bad_stored_event_does_not_stop_the_roll_up(agent_a: Agent, agent_b: Agent) -> None:
    stored_event(agent_a, "load", {"ms": 120, "score": "\ud800"}, ago=timedelta(0))
    good = stored_event(agent_b, "load", {"ms": 80}, ago=timedelta(0))
    WidgetEvent.objects.filter(pk=good).update(domain=SITE_B_HOST)
    hour = floor_hour(timezone.now())
    buckets_recompute(ranges=[(hour, hour + timedelta(hours=1))])
    loads = dict(
        MetricsBucket.objects.filter(grain="hour").values_list("agent_id", "loads").order_by()
    )
    assert loads == {agent_a.public_id: 1, agent_b.public_id: 1}
