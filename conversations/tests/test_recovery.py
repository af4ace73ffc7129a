"""The sweep for lost answers (conversations.recovery): a visitor message whose reply task
was lost is answered once, whoever sweeps and however often; what a person holds, what
is answered and what is still fresh is left alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connections
from django.utils import timezone

from agents.answering.tests.llm_server import LlmServer, Script
from agents.models import Agent
from conversations import recovery, tasks
from conversations.handoff import system_message_add
from conversations.models import Conversation, Message
from conversations.recovery import questions_unanswered, reply_busy, reply_sweep
from conversations.replies import reply_generate
from conversations.tasks import reply_to_message
from security.ids import new_visitor_id
from widgets.tests.live import free_port

T = TypeVar("T")
OLD = timedelta(seconds=settings.REPLY_SWEEP_AFTER_SECONDS + 5)


def lost_question(
    agent: Agent, text: str = "How long does shipping take?", *, age: timedelta = OLD
) -> Message:
    """A visitor message stored and acknowledged whose reply task never ran."""
    conversation = Conversation.objects.create(
        agent=agent, visitor_id=new_visitor_id(), origin="https://shop.example.com"
    )
    message = Message.objects.create(
        conversation=conversation, role=Message.Role.CUSTOMER, text=text, client_id="c-1"
    )
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - age)
    return message


def answers_to(question: Message) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation=question.conversation, client_id=f"reply:{question.public_id}"
        )
    )


def wait_for_answer(question: Message, timeout: float = 30) -> list[Message]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = answers_to(question)
        if found:
            return found
        time.sleep(0.1)
    return []


def at_once(work: Callable[[], T], threads: int = 2) -> list[T]:
    """`work` on `threads` threads released together (each on its own connection)."""
    barrier = threading.Barrier(threads)
    results: list[T] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        finally:
            connections.close_all()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db
def test_only_lost_questions_are_found(agent: Agent) -> None:
    lost = lost_question(agent)
    fresh = lost_question(agent, age=timedelta(seconds=1))
    ancient = lost_question(agent, age=timedelta(seconds=settings.REPLY_SWEEP_WINDOW_SECONDS + 60))
    answered = lost_question(agent)
    reply_generate(message_id=answered.pk)
    with_a_person = lost_question(agent)
    Conversation.objects.filter(pk=with_a_person.conversation_id).update(
        status=Conversation.Status.WAITING
    )
    handed_back = lost_question(agent)  # a person had it, then gave it back to the bot
    system_message_add(conversation=handed_back.conversation, text="The assistant is back.")
    staff_answered = lost_question(agent)
    Message.objects.create(
        conversation=staff_answered.conversation, role=Message.Role.STAFF, text="On its way."
    )

    found = questions_unanswered(
        older_than=timedelta(seconds=settings.REPLY_SWEEP_AFTER_SECONDS),
        within=timedelta(seconds=settings.REPLY_SWEEP_WINDOW_SECONDS),
        limit=100,
    )

    assert found == [lost.pk]
    assert {fresh.pk, ancient.pk, answered.pk, with_a_person.pk} & set(found) == set()


def test_a_lost_answer_is_queued_again_and_answered_once(agent: Agent, celery_worker: None) -> None:
    question = lost_question(agent)

    first = reply_sweep()
    answers = wait_for_answer(question)

    assert (first.found, first.queued) == (1, 1)
    assert len(answers) == 1
    assert answers[0].role == Message.Role.AGENT
    assert "3-5 business days" in answers[0].text
    # Answered: the next sweep finds nothing, and the lost task turning up late adds nothing.
    assert reply_sweep().found == 0
    reply_to_message.apply(args=(question.pk,))
    assert len(answers_to(question)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_racing_sweeps_queue_a_message_once_and_it_is_answered_once(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = lost_question(agent)
    queued: list[int] = []
    monkeypatch.setattr(recovery, "task_enqueue", lambda task, pk: queued.append(pk))
    results: list[recovery.SweepResult] = at_once(reply_sweep)

    assert queued == [question.pk]
    assert sorted((r.queued, r.claimed) for r in results) == [(0, 1), (1, 0)]

    # Two workers answering it at once (the queued task and the lost one found again)
    # store one answer.
    at_once(lambda: reply_generate(message_id=question.pk))
    assert len(answers_to(question)) == 1


@pytest.mark.django_db
def test_a_message_being_answered_is_left_alone(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = lost_question(agent)
    queued: list[int] = []
    monkeypatch.setattr(recovery, "task_enqueue", lambda task, pk: queued.append(pk))

    with reply_busy(question.pk, enabled=True):
        during = reply_sweep()
    after = reply_sweep()

    assert (during.found, during.busy, during.queued) == (1, 1, 0)
    assert (after.queued, queued) == (1, [question.pk])


@pytest.mark.django_db
def test_a_claim_expires_so_a_task_lost_twice_is_queued_again(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = lost_question(agent)
    queued: list[Any] = []
    monkeypatch.setattr(recovery, "task_enqueue", lambda task, pk: queued.append(pk))

    reply_sweep()
    assert reply_sweep().claimed == 1
    cache.delete(recovery._claim_key(question.pk))  # as CLAIM_SECONDS later
    reply_sweep()

    assert queued == [question.pk, question.pk]


def test_beat_runs_the_sweep_every_few_seconds() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["conversations-sweep-unanswered"]
    assert entry["task"] == "conversations.tasks.sweep_unanswered"
    assert entry["schedule"] == settings.REPLY_SWEEP_SECONDS <= 30


def test_the_busy_mark_is_renewed_as_the_answer_streams_and_cleared_after() -> None:
    key = recovery._busy_key(7)
    pushed: list[str] = []
    with reply_busy(7, enabled=True) as mark:
        assert cache.get(key) == 1
        cache.delete(key)  # as if BUSY_SECONDS went by without a piece
        assert mark.stamped is not None  # stamped on entry
        mark.stamped -= recovery.BUSY_RENEW_SECONDS
        mark.relay(pushed.append)("a piece")
        assert cache.get(key) == 1
    assert pushed == ["a piece"]
    assert cache.get(key) is None


@pytest.fixture
def llm_agent(agent: Agent, settings: Any) -> Iterator[Agent]:
    """The agent answering through a real local model server (it shows typing, streams)."""
    settings.LLM_ALLOW_PRIVATE_URLS = True
    with LlmServer(default=Script(text="Shipping takes 3-5 business days.")) as server:
        agent.responder = Agent.ResponderKind.LLM
        agent.llm_base_url = server.base_url
        agent.llm_model = "test-model"
        agent.llm_timeout_seconds = 5
        agent.save()
        yield agent


def test_redis_failing_under_an_answer_costs_the_typing_dots_not_the_answer(
    llm_agent: Agent, settings: Any
) -> None:
    """The channel layer on a port nothing listens on: typing, streamed pieces and the final
    broadcast all fail; the answer is stored and the bot keeps the conversation."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.redis_pools.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{free_port()}/0"}]},
        }
    }
    question = lost_question(llm_agent)

    answer = reply_generate(message_id=question.pk)

    assert answer is not None and "3-5 business days" in answer.text
    question.conversation.refresh_from_db()
    assert question.conversation.status == Conversation.Status.BOT
    assert not question.conversation.messages.filter(role=Message.Role.SYSTEM).exists()


@pytest.mark.django_db(transaction=True)  # the retry hands its connections back first
def test_a_database_fault_under_the_task_retries_instead_of_handing_off(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = lost_question(agent)
    calls: list[int] = []

    def dropped_then_fine(*, message_id: int) -> Message | None:
        calls.append(message_id)
        if len(calls) == 1:
            raise OperationalError("the connection is closed")
        return reply_generate(message_id=message_id)

    monkeypatch.setattr(tasks, "reply_generate", dropped_then_fine)

    # Run in this process (apply): the retry runs here too, at once.
    reply_to_message.apply(args=(question.pk,), throw=False)

    assert calls == [question.pk, question.pk]  # tried again, and answered
    assert len(answers_to(question)) == 1
    question.conversation.refresh_from_db()
    assert question.conversation.status == Conversation.Status.BOT
