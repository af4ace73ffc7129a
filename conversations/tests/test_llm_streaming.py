"""LLM answers streamed to the widget: `message.delta` frames, then the final `message` with
the same id, through the real websocket consumer, channel layer and Celery worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from agents.answering.tests.llm_server import LlmServer, Script
from agents.models import Agent, ModelUsage
from conversations.models import Conversation, Message
from conversations.replies import reply_generate, reply_public_id
from conversations.tests.test_consumer import ready

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]

ANSWER = "Express shipping takes one to two business days and costs fifteen dollars [1]."


@pytest.fixture
def llm() -> Iterator[LlmServer]:
    with LlmServer() as server:
        yield server


@pytest.fixture
def llm_agent(agent: Agent, llm: LlmServer) -> Agent:
    agent.responder = Agent.ResponderKind.LLM
    agent.llm_base_url = llm.base_url
    agent.llm_model = "test-model"
    agent.llm_timeout_seconds = 1
    agent.save()
    return agent


def is_answer(frame: dict[str, Any]) -> bool:
    return frame["type"] == "message" and frame["role"] == "agent"


async def frames_until_answer(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Every frame up to the agent's final message (generous: the worker may be busy)."""
    seen: list[dict[str, Any]] = []
    while not seen or not is_answer(seen[-1]):
        try:
            seen.append(await communicator.receive_json_from(timeout=30))
        except TimeoutError:
            raise AssertionError(f"no answer from the agent; frames so far: {seen}") from None
        assert len(seen) < 200, seen
    return seen


async def test_tokens_reach_the_widget_in_order_then_the_final_message(llm_agent, llm) -> None:
    llm.script(Script(text=ANSWER, latency_s=0.05, token_delay_s=0.03, prompt_tokens=90))
    communicator, _ = await ready(llm_agent)
    await communicator.send_json_to(
        {"type": "message.send", "clientId": "s-1", "text": "How long does express shipping take?"}
    )
    frames = await frames_until_answer(communicator)
    deltas = [f for f in frames if f["type"] == "message.delta"]
    final = frames[-1]
    assert len(deltas) >= 3  # streamed, though coalesced
    assert {d["id"] for d in deltas} == {final["id"]}
    assert set(deltas[0]) == {"type", "id", "delta"}
    streamed = "".join(d["delta"] for d in deltas)
    assert streamed == final["text"]
    assert final["text"].startswith(ANSWER)
    assert final["text"].endswith("Sources:\n[1] Shipping times — https://shop.example.com/help")
    # Typing shows while the model works and stops before the final message.
    kinds = [f["type"] for f in frames]
    assert kinds.index("typing") < kinds.index("message.delta")
    stored = await sync_to_async(Message.objects.get)(public_id=final["id"])
    assert stored.metadata["model"] == "test-model"
    assert stored.metadata["usage"]["promptTokens"] == 90
    assert stored.metadata["firstTokenMs"] is not None
    assert stored.metadata["sources"][0]["title"] == "Shipping times"
    await communicator.disconnect()


async def test_a_stalled_stream_is_replaced_by_the_knowledge_answer_under_the_same_id(
    llm_agent, llm
) -> None:
    llm.script(Script(text="Express shipping is very", stall_after=2))
    communicator, _ = await ready(llm_agent)
    await communicator.send_json_to(
        {"type": "message.send", "clientId": "s-2", "text": "How long does express shipping take?"}
    )
    frames = await frames_until_answer(communicator)
    deltas = [f for f in frames if f["type"] == "message.delta"]
    final = frames[-1]
    assert "".join(d["delta"] for d in deltas) == "Express shipping "
    assert {d["id"] for d in deltas} == {final["id"]}
    # The final message replaces the partial text in the widget (frontend applyDelta).
    assert "Express shipping takes 1-2 business days" in final["text"]
    stored = await sync_to_async(Message.objects.get)(public_id=final["id"])
    assert stored.metadata["llmFallback"] == "timeout"
    await communicator.disconnect()


async def test_the_knowledge_responder_sends_no_deltas(agent) -> None:
    communicator, _ = await ready(agent)
    await communicator.send_json_to(
        {"type": "message.send", "clientId": "k-1", "text": "Do you take PayPal?"}
    )
    frames = await frames_until_answer(communicator)
    assert not [f for f in frames if f["type"] in ("message.delta", "typing")]
    await communicator.disconnect()


def _question(agent: Agent, text: str, **conversation: Any) -> Message:
    chat = Conversation.objects.create(
        agent=agent, visitor_id="vis_aaaaaaaaaaaaaaaa", **conversation
    )
    return Message.objects.create(conversation=chat, role="customer", text=text, client_id="q-1")


def test_the_answer_keeps_the_id_it_streamed_under_and_is_written_once(llm_agent, llm) -> None:
    question = _question(llm_agent, "How long does express shipping take?")
    answer = reply_generate(message_id=question.pk)
    assert answer is not None
    assert answer.public_id == reply_public_id(question)
    assert reply_public_id(question).startswith("msg_") and len(answer.public_id) == 20
    assert reply_generate(message_id=question.pk) is None
    assert len(llm.requests) == 1
    usage = ModelUsage.objects.get(agent=llm_agent)
    assert usage.owner_key == question.conversation.owner_key and usage.calls == 1


def test_internal_notes_never_reach_the_model(llm_agent, llm) -> None:
    earlier = _question(llm_agent, "Hi")
    chat = earlier.conversation
    Message.objects.create(conversation=chat, role="note", text="VIP, be careful with refunds")
    question = Message.objects.create(
        conversation=chat, role="customer", text="Can I get a refund?", client_id="q-2"
    )
    reply_generate(message_id=question.pk)
    contents = [m["content"] for m in llm.bodies()[0]["messages"]]
    assert "Hi" in contents
    assert not any("VIP" in str(c) for c in contents)


def test_a_conversation_held_by_a_person_gets_no_model_call(llm_agent, llm) -> None:
    question = _question(llm_agent, "Anyone there?", status=Conversation.Status.ASSIGNED)
    assert reply_generate(message_id=question.pk) is None
    assert llm.requests == []
