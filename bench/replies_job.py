"""The Django side of the replies bench, run by bench/replies.py inside the bench stack's
environment (its own database and Redis db): `python -m bench.replies_job direct|floor|load`.

- `direct`: the reply task called in a loop in this process (no broker): CPU and queries
  per knowledge-base answer, optionally the top of a cProfile;
- `floor`: no-op Celery tasks (`celery.accumulate`) sent at a rate to the running workers:
  the workers' CPU per task that any task pays (broker fetch, ack, dispatch);
- `load`: visitor messages stored beforehand, their replies enqueued at a rate; each answer
  is caught on the channel layer, as the visitor's widget would get it: send→answer
  latency, lost and duplicated answers, and the workers' CPU per answer.

Worker CPU is read from /proc (utime + stime of every process in the given process
groups: a prefork pool's children included). Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import threading
import time
import uuid
from io import StringIO
from pathlib import Path
from typing import Any

import django

django.setup()

from channels.layers import get_channel_layer  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from agents.models import Agent  # noqa: E402
from bench.stats import summary_ms  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from conversations.models import Conversation, Message  # noqa: E402
from conversations.realtime.groups import owner_group  # noqa: E402
from conversations.replies import reply_public_id  # noqa: E402
from conversations.tasks import reply_to_message  # noqa: E402

# Questions the demo knowledge base answers (an unanswered one twice in a row would hand
# the conversation to a person, and its later messages would get no bot answer).
QUESTIONS = (
    "How long does express shipping take?",
    "Can I return an unused item for a refund?",
    "How do I track my order?",
    "Is there a warranty on tents and backpacks?",
    "Which payment methods do you accept?",
)
ORIGIN = "http://127.0.0.1:8001"
NOOP_TASK = "celery.accumulate"  # Celery's own builtin: returns its arguments
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BATCH = 25  # direct answers timed together


def group_cpu_seconds(pgids: list[int]) -> float:
    """utime + stime of every live process in these process groups."""
    total = 0
    wanted = {str(p) for p in pgids}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[2] in wanted:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def _agent() -> Agent:
    return Agent.objects.select_related("workspace").get(workspace__slug="acme-outdoor")


def _visitors(agent: Agent, count: int) -> list[Conversation]:
    tag = uuid.uuid4().hex[:8]
    rows = [
        Conversation(
            agent=agent,
            visitor_id=f"bench{tag}{n}",
            owner_key=f"v-bench{tag}{n}",
            origin=ORIGIN,
            page_url=ORIGIN + "/",
        )
        for n in range(count)
    ]
    return Conversation.objects.bulk_create(rows)


def _questions(conversations: list[Conversation], count: int) -> list[Message]:
    """`count` visitor messages, spread round-robin over the conversations."""
    rows = [
        Message(
            conversation=conversations[n % len(conversations)],
            role=Message.Role.CUSTOMER,
            text=QUESTIONS[(n // len(conversations) + n) % len(QUESTIONS)],
            client_id=str(uuid.uuid4()),
        )
        for n in range(count)
    ]
    created = Message.objects.bulk_create(rows, batch_size=500)
    if any(m.pk is None for m in created):  # SQLite before 3.35 returns no ids
        by_client = dict(
            Message.objects.filter(client_id__in=[m.client_id for m in rows]).values_list(
                "client_id", "pk"
            )
        )
        for message in created:
            message.pk = by_client[message.client_id]
    return created


# --- direct ---------------------------------------------------------------------------


def direct(count: int, profile_top: int) -> dict[str, Any]:
    agent = _agent()
    conversations = _visitors(agent, max(1, count // 3))
    warm = _questions(conversations, 20)
    for message in warm:
        reply_to_message(message.pk)
    questions = _questions(conversations, count)
    with CaptureQueriesContext(connection) as queries:
        reply_to_message(questions[0].pk)
    measured = questions[1:]
    profiler = cProfile.Profile() if profile_top else None
    batches: list[float] = []  # CPU ms per answer of each batch: the best is the least noisy
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for start in range(0, len(measured), BATCH):
        batch = measured[start : start + BATCH]
        batch_cpu = time.process_time()
        for message in batch:
            reply_to_message(message.pk)
        batches.append(1000 * (time.process_time() - batch_cpu) / len(batch))
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ids = [m.public_id for m in measured]
    answers = Message.objects.filter(
        role=Message.Role.AGENT, metadata__inReplyTo__in=ids
    ).values_list("metadata", flat=True)
    result: dict[str, Any] = {
        "answers": len(answers),
        "answered_by_knowledge": sum(1 for meta in answers if meta.get("answered")),
        "cpu_ms_per_answer": round(1000 * cpu / len(measured), 3),
        "cpu_ms_per_answer_best_batch": round(min(batches), 3),
        "cpu_ms_per_answer_median_batch": round(statistics.median(batches), 3),
        "wall_ms_per_answer": round(1000 * wall / len(measured), 3),
        "queries_per_answer": len(queries.captured_queries),
        "queries": [q["sql"][:160] for q in queries.captured_queries],
        "profiled": bool(profiler),
    }
    if profiler:
        out = StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(profile_top)
        result["profile"] = out.getvalue().splitlines()
    return result


# --- floor ----------------------------------------------------------------------------


def _queue_depth() -> int:
    with celery_app.connection_for_write() as conn:
        channel: Any = conn.default_channel
        depth = int(channel._size("celery"))
        depth += int(channel.client.hlen(channel.unacked_key))
    return depth


def _drain(deadline: float) -> bool:
    while time.monotonic() < deadline:
        if _queue_depth() == 0:
            return True
        time.sleep(0.05)
    return False


def floor(count: int, rate: float, pgids: list[int], timeout: float) -> dict[str, Any]:
    for _ in range(20):  # warm the workers and this process's producer
        celery_app.send_task(NOOP_TASK, args=(0,))
    _drain(time.monotonic() + timeout)
    time.sleep(0.3)
    cpu = group_cpu_seconds(pgids)
    started = time.perf_counter()
    for number in range(count):
        _wait_until(started + number / rate)
        celery_app.send_task(NOOP_TASK, args=(number,))
    drained = _drain(time.monotonic() + timeout)
    wall = time.perf_counter() - started
    cpu = group_cpu_seconds(pgids) - cpu
    return {
        "tasks": count,
        "drained": drained,
        "wall_s": round(wall, 2),
        "worker_cpu_s": round(cpu, 3),
        "worker_cpu_ms_per_task": round(1000 * cpu / count, 3),
    }


def _wait_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


# --- load -----------------------------------------------------------------------------


class Collector:
    """Listens on every visitor's group, as their widgets would, and times the answers."""

    def __init__(self, agent: Agent, conversations: list[Conversation]) -> None:
        self.agent = agent
        self.conversations = conversations
        self.layer: Any = get_channel_layer()
        self.channel = ""
        self.sent_at: dict[str, float] = {}  # answer public id -> when its task was sent
        self.latencies: list[float] = []
        self.duplicates = 0
        self.unexpected = 0
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    async def subscribe(self) -> None:
        self.channel = await self.layer.new_channel("bench-replies.")
        for conversation in self.conversations:
            group = owner_group(self.agent.public_id, conversation.owner_key)
            await self.layer.group_add(group, self.channel)

    def expect(self, question: Message, at: float) -> None:
        with self.lock:
            self.sent_at[reply_public_id(question)] = at

    async def listen(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                event = await asyncio.wait_for(self.layer.receive(self.channel), 0.5)
            except TimeoutError:
                continue
            if event.get("type") != "message.created":
                continue
            message = event.get("message") or {}
            if message.get("role") != "agent":
                continue
            arrived = time.perf_counter()
            answer_id = str(message.get("id"))
            with self.lock:
                sent = self.sent_at.get(answer_id)
            if sent is None:
                self.unexpected += 1
            elif answer_id in self.seen:
                self.duplicates += 1
            else:
                self.seen.add(answer_id)
                self.latencies.append(arrived - sent)


def _send_all(collector: Collector, questions: list[Message], rate: float, started: float) -> float:
    """Enqueue each question's reply task at its moment; returns the last send's lag."""
    lag = 0.0
    for number, question in enumerate(questions):
        moment = started + number / rate
        _wait_until(moment)
        now = time.perf_counter()
        lag = max(lag, now - moment)
        collector.expect(question, now)
        reply_to_message.delay(question.pk)
    return lag


async def _load(
    rate: float, duration: float, visitors: int, pgids: list[int], timeout: float
) -> dict[str, Any]:
    agent = await asyncio.to_thread(_agent)
    count = max(1, round(rate * duration))
    conversations = await asyncio.to_thread(_visitors, agent, visitors)
    warm = await asyncio.to_thread(_questions, conversations, min(visitors, 20))
    questions = await asyncio.to_thread(_questions, conversations, count)
    collector = Collector(agent, conversations)
    await collector.subscribe()
    stop = asyncio.Event()
    listening = asyncio.create_task(collector.listen(stop))
    try:
        # Warm-up (unmeasured): the workers are up and each process has built its caches.
        started = time.perf_counter()
        await asyncio.to_thread(_send_all, collector, warm, 50.0, started)
        await _until(lambda: len(collector.latencies) >= len(warm), timeout)
        warm_answers = len(collector.latencies)
        collector.latencies.clear()
        await asyncio.sleep(0.5)
        cpu = group_cpu_seconds(pgids)
        started = time.perf_counter()
        send_lag = await asyncio.to_thread(_send_all, collector, questions, rate, started)
        sending_s = time.perf_counter() - started
        await _until(lambda: len(collector.latencies) >= count, timeout)
        wall = time.perf_counter() - started
        cpu = group_cpu_seconds(pgids) - cpu
        await asyncio.sleep(0.5)  # stragglers and duplicates
    finally:
        stop.set()
        await listening
    answered = len(collector.latencies)
    return {
        "offered_rate": rate,
        "sent": count,
        "sending_s": round(sending_s, 2),
        "max_send_lag_ms": round(1000 * send_lag, 1),
        "warm_up_answers": f"{warm_answers}/{len(warm)}",
        "answered": answered,
        "lost": count - answered,
        "duplicated": collector.duplicates,
        "unexpected": collector.unexpected,
        "answer_ms": summary_ms(collector.latencies),
        "wall_s": round(wall, 2),
        "answers_per_s": round(answered / wall, 1) if wall else None,
        "worker_cpu_s": round(cpu, 3),
        "worker_cpu_ms_per_answer": round(1000 * cpu / answered, 3) if answered else None,
    }


async def _until(done: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        await asyncio.sleep(0.05)
    return done()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.replies_job")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("direct")
    d.add_argument("--count", type=int, default=300)
    d.add_argument("--profile", type=int, default=0, help="print the top N of a cProfile")
    for name in ("floor", "load"):
        p = sub.add_parser(name)
        p.add_argument("--rate", type=float, required=True)
        p.add_argument("--pgids", required=True, help="the workers' process groups, a,b")
        p.add_argument("--timeout", type=float, default=30.0)
    sub.choices["floor"].add_argument("--count", type=int, default=500)
    sub.choices["load"].add_argument("--duration", type=float, required=True)
    sub.choices["load"].add_argument("--visitors", type=int, required=True)
    args = parser.parse_args()
    if args.command == "direct":
        result = direct(args.count, args.profile)
    else:
        pgids = [int(p) for p in args.pgids.split(",") if p]
        if args.command == "floor":
            result = floor(args.count, args.rate, pgids, args.timeout)
        else:
            result = asyncio.run(
                _load(args.rate, args.duration, args.visitors, pgids, args.timeout)
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
