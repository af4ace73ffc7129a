"""Many widgets connecting at once: the Redis pools make load wait, they never raise.

Under services every socket's connect joins a group in Redis, counts a rate limit and
marks presence; 150 or 200 of them at the same moment once ran redis-py's asyncio pools
(100 connections, raising beyond) dry and crashed half the connects with
`MaxConnectionsError`. Embedded, the same storm runs on the in-memory layer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application
from conftest import SITE_ORIGIN
from customers.sessions import session_token_issue
from security.ids import new_visitor_id

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect_and_ready(token: str, index: int) -> tuple[WebsocketCommunicator, Any]:
    communicator = WebsocketCommunicator(
        application,
        "/ws/widget/",
        headers=[(b"origin", SITE_ORIGIN.encode())],
        subprotocols=["customeragent.v2", "auth." + token],
    )
    # Spread over source addresses, as visitors are (a per-address connect limit exists).
    communicator.scope["client"] = [f"127.0.{index // 200}.{index % 200 + 1}", 50000 + index]
    connected, _ = await communicator.connect(timeout=60)
    frame = await communicator.receive_output(timeout=60) if connected else None
    return communicator, frame


@pytest.mark.parametrize("sockets", [150, 200])
async def test_a_storm_of_connects_is_served_without_a_single_error(agent, sockets: int) -> None:
    tokens = [
        session_token_issue(
            agent_id=agent.public_id, visitor_id=new_visitor_id(), origin=SITE_ORIGIN
        ).token
        for _ in range(sockets)
    ]
    results = await asyncio.gather(
        *(_connect_and_ready(token, index) for index, token in enumerate(tokens)),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    frames = [r[1] for r in results if not isinstance(r, BaseException)]
    assert failures == [], failures[:3]
    not_ready = [f for f in frames if not (f and '"session.ready"' in f.get("text", ""))]
    assert not_ready == [], not_ready[:3]
    # Every socket is live: a message to one of them still reaches it after the storm.
    communicators = [r[0] for r in results if not isinstance(r, BaseException)]
    await communicators[-1].send_json_to(
        {"type": "message.send", "clientId": "after-storm", "text": "Still there?"}
    )
    while True:
        frame = await communicators[-1].receive_json_from(timeout=30)
        if frame["type"] == "message.ack":
            break
    await asyncio.gather(*(c.disconnect(timeout=30) for c in communicators))
