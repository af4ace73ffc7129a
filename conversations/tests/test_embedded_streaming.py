"""Embedded mode (`make run`: eager Celery, in-memory channel layer): with
EMBEDDED_TASKS_DETACHED the answer is written beside the websocket handler, so the visitor
gets the ack at once and the answer's pieces as the model writes them — not everything
together when the answer is done."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import current_app
from channels.layers import channel_layers
from django.test import override_settings

from agents.answering.tests.llm_server import LlmServer, Script
from agents.models import Agent
from conversations.tests.test_consumer import ready

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = " ".join(["Express shipping takes one to two business days."] * 4)
EMBEDDED = {
    "CELERY_TASK_ALWAYS_EAGER": True,
    "CHANNEL_LAYERS": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
}


@pytest.fixture
def llm() -> Iterator[LlmServer]:
    with LlmServer() as server:
        yield server


@pytest.fixture
def llm_agent(agent: Agent, llm: LlmServer) -> Agent:
    agent.responder = Agent.ResponderKind.LLM
    agent.llm_base_url = llm.base_url
    agent.llm_model = "test-model"
    agent.llm_timeout_seconds = 5
    agent.save()
    return agent


async def _timed_frames(agent: Agent) -> list[tuple[float, dict[str, Any]]]:
    """(seconds since sending, frame) for every frame up to the agent's final message."""
    communicator, _ = await ready(agent)
    started = time.monotonic()
    await communicator.send_json_to({"type": "message.send", "clientId": "e-1", "text": "Ship?"})
    seen: list[tuple[float, dict[str, Any]]] = []
    while not seen or not (seen[-1][1]["type"] == "message" and seen[-1][1]["role"] == "agent"):
        frame = await communicator.receive_json_from(timeout=20)
        seen.append((time.monotonic() - started, frame))
        assert len(seen) < 300
    await communicator.disconnect()
    return seen


def _when(frames: list[tuple[float, dict[str, Any]]], kind: str) -> float:
    return next(at for at, frame in frames if frame["type"] == kind)


@pytest.mark.parametrize("detached", [True, False])
async def test_embedded_answers_stream_only_when_detached(
    llm_agent: Agent, llm: LlmServer, detached: bool
) -> None:
    # ~40 pieces 30 ms apart: the model takes over a second to write the answer.
    llm.script(Script(text=ANSWER, latency_s=0.05, token_delay_s=0.03))
    # Celery reads its settings once: switch the app itself to eager too (CI has a broker).
    was_eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        with override_settings(**EMBEDDED, EMBEDDED_TASKS_DETACHED=detached):
            channel_layers.backends.clear()
            frames = await _timed_frames(llm_agent)
    finally:
        current_app.conf.task_always_eager = was_eager
    ack, first_piece, final = (
        _when(frames, "message.ack"),
        _when(frames, "message.delta"),
        frames[-1][0],
    )
    assert (
        "".join(f["delta"] for _, f in frames if f["type"] == "message.delta")
        == (frames[-1][1]["text"])
    )
    if detached:
        # The ack does not wait for the model, and the pieces arrive as they are written.
        assert ack < first_piece < final
        assert final - ack > 0.6 and final - first_piece > 0.5
    else:
        # Inline (plain eager Celery): the ack comes at once (it goes out before the message
        # is routed), then the pieces all together once the answer is done.
        assert ack < 0.3 < first_piece
        assert final - first_piece < 0.3
