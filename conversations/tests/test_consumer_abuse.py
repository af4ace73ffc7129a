"""The websocket under abuse: floods, blocked networks, per-agent limits."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from conversations.models import Message
from conversations.tests.test_consumer import connect, issue, ready
from security.models import AbuseEvent, IpBlock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


async def test_a_blocked_address_is_closed_4403(agent) -> None:
    await sync_to_async(IpBlock.objects.create)(network="127.0.0.0/8", reason="abuse")
    token, _ = issue(agent)
    communicator, connected, _ = await connect(token)
    assert connected
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_a_frame_flood_is_closed_4429(agent) -> None:
    communicator, _ = await ready(agent)
    for _ in range(61):
        await communicator.send_json_to({"type": "typing", "state": True})
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4429}


async def test_a_message_flood_is_refused_without_storing(agent) -> None:
    config = agent.widget_config
    config.rate_limits = {"message_per_visitor": 3}
    await sync_to_async(config.save)()
    communicator, _ = await ready(agent)
    refusals = []
    for index in range(5):
        await communicator.send_json_to(
            {"type": "message.send", "clientId": f"f-{index}", "text": f"spam {index}"}
        )
    for _ in range(30):
        frame = await communicator.receive_json_from(timeout=10)
        if frame["type"] == "error":
            refusals.append(frame)
        if len(refusals) == 2:
            break
    assert [r["code"] for r in refusals] == ["rate_limited", "rate_limited"]
    assert {r["clientId"] for r in refusals} == {"f-3", "f-4"}
    assert all(r["retryAfter"] >= 1 for r in refusals)
    stored = await sync_to_async(
        lambda: sorted(Message.objects.filter(role="customer").values_list("text", flat=True))
    )()
    assert stored == ["spam 0", "spam 1", "spam 2"]
    await communicator.disconnect()


async def send_and_collect(communicator, frames: list[dict], until_errors: int) -> list[dict]:
    for frame in frames:
        await communicator.send_json_to(frame)
    errors: list[dict] = []
    for _ in range(40):
        reply = await communicator.receive_output(timeout=10)
        if reply["type"] == "websocket.close":
            errors.append({"closed": reply["code"]})
            break
        body = json.loads(reply["text"])
        if body["type"] == "error":
            errors.append(body)
            if len(errors) >= until_errors:
                break
    return errors


async def test_a_filled_honeypot_blocks_the_address_for_an_hour(agent) -> None:
    communicator, visitor = await ready(agent)
    got = await send_and_collect(
        communicator,
        [{"type": "message.send", "clientId": "b-1", "text": "buy now", "hp": "http://x"}],
        until_errors=2,
    )
    assert got[0]["code"] == "rate_limited"
    assert got[1] == {"closed": 4403}
    block = await sync_to_async(IpBlock.objects.get)()
    assert block.source == "automatic" and block.network == "127.0.0.1"
    assert block.expires_at is not None
    event = await sync_to_async(AbuseEvent.objects.get)()
    assert event.action == "blocked" and event.visitor_id == visitor
    assert event.signals == {"honeypot": 100}
    assert await sync_to_async(Message.objects.count)() == 0


async def test_the_same_text_again_and_again_is_refused_and_recorded(agent) -> None:
    communicator, _ = await ready(agent)
    sends = [
        {"type": "message.send", "clientId": f"r-{i}", "text": "WIN A  FREE phone"}
        for i in range(4)
    ]
    got = await send_and_collect(communicator, sends, until_errors=1)
    assert got[0]["clientId"] == "r-3"
    stored = await sync_to_async(Message.objects.filter(role="customer").count)()
    assert stored == 3
    event = await sync_to_async(AbuseEvent.objects.get)()
    assert event.action == "slowed" and event.signals == {"repeated_text": 50}
    await communicator.disconnect()


async def test_link_spam_is_refused(agent) -> None:
    communicator, _ = await ready(agent)
    text = " ".join(f"https://spam{i}.example" for i in range(5))
    got = await send_and_collect(
        communicator, [{"type": "message.send", "clientId": "l-1", "text": text}], until_errors=1
    )
    assert got[0]["code"] == "rate_limited"
    assert await sync_to_async(Message.objects.count)() == 0
    await communicator.disconnect()
