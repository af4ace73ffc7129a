"""The widget websocket and the reply pipeline feed /metrics: connections, messages, latency."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from conversations.tests.test_consumer import frames_until, ready

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_connections_messages_and_responder_latency_are_measured(agent: Any) -> None:
    connections = value("customeragent_websocket_connections")
    messages = value("customeragent_websocket_messages_total")
    answers = value("customeragent_responder_duration_seconds_count", responder="knowledge")

    communicator, _ = await ready(agent)
    assert value("customeragent_websocket_connections") == connections + 1
    for attempt in range(2):  # a retried clientId is acknowledged again, counted once
        await communicator.send_json_to(
            {"type": "message.send", "clientId": "c-1", "text": "How long is shipping?"}
        )
        await frames_until(communicator, lambda f: f["type"] == "message.ack")
        assert value("customeragent_websocket_messages_total") == messages + 1, attempt
    await frames_until(communicator, lambda f: f["type"] == "message" and f["role"] == "agent")
    assert (
        value("customeragent_responder_duration_seconds_count", responder="knowledge")
        == answers + 1
    )
    await communicator.disconnect()
    assert value("customeragent_websocket_connections") == connections


async def test_a_refused_connection_is_not_counted(agent: Any) -> None:
    from conversations.tests.test_consumer import connect

    connections = value("customeragent_websocket_connections")
    communicator, _, _ = await connect("not-a-token")
    await communicator.receive_output(timeout=5)  # the close frame
    await communicator.disconnect()
    assert value("customeragent_websocket_connections") == connections
