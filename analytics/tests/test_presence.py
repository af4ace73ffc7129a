"""Visitors live now: open widget websockets counted per agent, and no ghosts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from analytics import presence
from analytics.presence import presence_counts, presence_enter, presence_leave
from conversations.tests.test_consumer import ready

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


async def counts(*agent_ids: str) -> dict[str, int]:
    return await sync_to_async(presence_counts)(agent_ids)


async def test_open_widgets_are_counted_until_they_close(agent: Any, other_agent: Any) -> None:
    first, _ = await ready(agent)
    second, _ = await ready(agent)
    assert await counts(agent.public_id, other_agent.public_id) == {
        agent.public_id: 2,
        other_agent.public_id: 0,
    }
    await first.disconnect()
    assert (await counts(agent.public_id))[agent.public_id] == 1
    await second.disconnect()
    assert (await counts(agent.public_id))[agent.public_id] == 0


async def test_a_connection_that_stops_renewing_drops_out(
    agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a crashed process leaves behind expires on its own."""
    ticket = await presence_enter(agent_id=agent.public_id, connection_id="crashed-1")
    assert ticket.renewer is not None
    ticket.renewer.cancel()  # the process died: nobody renews, nobody leaves
    assert (await counts(agent.public_id))[agent.public_id] == 1
    later = time.time() + presence.TTL_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert (await counts(agent.public_id))[agent.public_id] == 0


async def test_renewal_keeps_a_long_connection_counted(
    agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence, "RENEW_SECONDS", 0.05)
    ticket = await presence_enter(agent_id=agent.public_id, connection_id="long-1")
    started = time.time()
    monkeypatch.setattr(time, "time", lambda: started + presence.TTL_SECONDS - 1)
    await asyncio.sleep(0.2)  # renewed at "TTL - 1 s", so valid well past the first expiry
    monkeypatch.setattr(time, "time", lambda: started + presence.TTL_SECONDS + 5)
    assert (await counts(agent.public_id))[agent.public_id] == 1
    await presence_leave(ticket)
    assert (await counts(agent.public_id))[agent.public_id] == 0
