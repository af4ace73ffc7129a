"""Floods of frames that do not parse: each counts against the frame limit (close 4429),
and a connection's refusals are logged once per kind, not once per frame."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from agents.models import Agent
from conversations.models import Message
from conversations.tests.test_consumer import connect, issue
from conversations.tests.test_inbox import inbox_ready
from security.tests.hostile.conftest import SITE_A

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]

FRAME_LIMIT = 20  # the agent's frame_per_connection for these tests (default 60 / 10 s)
SOCKET_LOGGERS = ("conversations.sockets.widget_consumer", "conversations.sockets.inbox_consumer")

FLOODS: dict[str, tuple[int, dict[str, Any]]] = {
    "not JSON": (1000, {"text_data": "{nope"}),
    "binary": (1000, {"bytes_data": b"\x00\x01binary"}),
    "30 KB of garbage": (300, {"text_data": "x" * 30_000}),
    "over 32 KB": (300, {"text_data": "y" * 40_000}),
    "lone surrogates": (1000, {"text_data": '{"type": "typing", "state": "\\ud800"}'}),
    "unknown types": (1000, {"text_data": '{"type": "launch.missiles"}'}),
}


async def widget_socket(agent: Agent) -> WebsocketCommunicator:
    token, _ = await sync_to_async(issue)(agent, origin=SITE_A)
    communicator, connected, _ = await connect(token, origin=SITE_A)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "session.ready"
    return communicator


async def flood(communicator: WebsocketCommunicator, count: int, frame: dict[str, Any]) -> int:
    """Send `count` frames, then read until the socket closes: the close code, after
    checking that far fewer replies than frames came back."""
    for _ in range(count):
        await communicator.send_to(**frame)
    for replies in range(count + 1):
        output = await communicator.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            assert replies <= 2 * FRAME_LIMIT  # closed well before the end
            assert await communicator.receive_nothing(timeout=0.5)  # and nothing after
            return int(output["code"])
        assert json.loads(output["text"])["type"] == "error"
    raise AssertionError(f"{count} frames were all answered and the socket stayed open")


def socket_log_lines(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name in SOCKET_LOGGERS]


@pytest.mark.parametrize("name", FLOODS)
async def test_a_flood_of_bad_frames_closes_the_widget_socket_and_logs_a_few_lines(
    agent_a: Agent, name: str, caplog: Any
) -> None:
    config = agent_a.widget_config
    config.rate_limits = {"frame_per_connection": FRAME_LIMIT}
    await sync_to_async(config.save)()
    communicator = await widget_socket(agent_a)
    count, frame = FLOODS[name]
    with caplog.at_level(logging.INFO):
        assert await flood(communicator, count, frame) == 4429
        await communicator.disconnect()
    lines = socket_log_lines(caplog)
    assert 1 <= len(lines) <= 4, lines  # first refusal, the flood, one summary
    assert await sync_to_async(Message.objects.count)() == 0


@pytest.mark.parametrize("name", ["not JSON", "binary", "30 KB of garbage"])
async def test_a_flood_of_bad_frames_closes_the_inbox_socket_and_logs_a_few_lines(
    owner_a: Any, name: str, caplog: Any
) -> None:
    communicator, _ = await inbox_ready(owner_a)
    count, frame = FLOODS[name]
    with caplog.at_level(logging.INFO):
        # The inbox counts against the default limit (60 frames / 10 s).
        for _ in range(count):
            await communicator.send_to(**frame)
        replies = 0
        while (output := await communicator.receive_output(timeout=10))["type"] != (
            "websocket.close"
        ):
            replies += 1
        assert output["code"] == 4429
        assert replies <= 120
        await communicator.disconnect()
    assert 1 <= len(socket_log_lines(caplog)) <= 4
