"""The websocket under abuse: floods, blocked networks, per-agent limits."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from conversations.models import Message
from conversations.tests.test_consumer import connect, issue, ready
from security.models import IpBlock

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
