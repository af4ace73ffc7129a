"""The widget websocket under many connected visitors: ack and answer latency.

Every client gets a session over HTTP, connects with the session token in the
subprotocol, waits for `session.ready`, then sends its messages one at a time (waiting
for the agent's answer before the next one) while all clients run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin, Subprotocol

from bench.httpclient import HttpConnection
from bench.session import ORIGIN, create_session
from bench.stats import summary_ms

SUBPROTOCOL = "customeragent.v2"
# Questions the demo knowledge base answers (demo/seed.py).
QUESTIONS = (
    "How long does express shipping take?",
    "Can I return an unused item for a refund?",
    "How do I track my order?",
    "Is there a warranty on tents and backpacks?",
    "Which payment methods do you accept?",
)


@dataclass(frozen=True)
class WsConfig:
    clients: int = 100
    messages: int = 5
    connect_concurrency: int = 20
    think_s: tuple[float, float] = (0.1, 0.3)  # pause between an answer and the next send
    stagger_s: float = 1.0  # clients start their first send spread over this window
    step_timeout_s: float = 10.0  # for each of: session, handshake, session.ready
    ack_timeout_s: float = 10.0
    answer_timeout_s: float = 20.0
    connect_cap_s: float = 60.0
    cap_s: float = 90.0  # the whole message phase
    drain_s: float = 5.0  # extra wait for late acks/answers before counting them lost


@dataclass
class Tally:
    session_s: list[float] = field(default_factory=list)
    ready_s: list[float] = field(default_factory=list)
    ack_s: list[float] = field(default_factory=list)
    answer_s: list[float] = field(default_factory=list)
    connect_failures: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    ack_timeouts: int = 0
    answer_timeouts: int = 0
    answer_before_ack: int = 0
    skipped_by_cap: int = 0


class Client:
    def __init__(self, index: int) -> None:
        self.index = index
        self.ws: ClientConnection | None = None
        self.acks: dict[str, float] = {}
        self.duplicate_acks = 0
        self.agent_at: list[float] = []
        self.sent = 0
        self.answered_in_time = 0
        self.error_codes: Counter[str] = Counter()
        self.closed_code: int | None = None
        self.closing = False
        self.changed = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    async def connect(self, port: int, agent_id: str, config: WsConfig, tally: Tally) -> bool:
        step = "session"
        try:
            started = time.perf_counter()
            http = HttpConnection("127.0.0.1", port, timeout=config.step_timeout_s)
            try:
                session = await create_session(http, agent_id)
            finally:
                await http.close()
            tally.session_s.append(time.perf_counter() - started)
            step = "handshake"
            started = time.perf_counter()
            self.ws = await connect(
                f"ws://127.0.0.1:{port}/ws/widget/",
                subprotocols=[Subprotocol(SUBPROTOCOL), Subprotocol("auth." + session["token"])],
                origin=Origin(ORIGIN),
                proxy=None,
                open_timeout=config.step_timeout_s,
                ping_interval=None,
                close_timeout=3,
            )
            if self.ws.subprotocol != SUBPROTOCOL:
                raise RuntimeError(f"subprotocol {self.ws.subprotocol!r}")
            step = "ready"
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), config.step_timeout_s))
            if frame.get("type") != "session.ready":
                raise RuntimeError(f"first frame {frame.get('type')!r}")
            tally.ready_s.append(time.perf_counter() - started)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            tally.connect_failures[f"{step}: closed {code}"] += 1
            return False
        except (TimeoutError, OSError, InvalidHandshake, RuntimeError, ValueError) as exc:
            tally.connect_failures[f"{step}: {type(exc).__name__}"] += 1
            return False
        self.reader = asyncio.create_task(self._read())
        return True

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                at = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message.ack":
                    client_id = str(frame.get("clientId"))
                    if client_id in self.acks:
                        self.duplicate_acks += 1
                    else:
                        self.acks[client_id] = at
                elif kind == "message" and frame.get("role") == "agent":
                    self.agent_at.append(at)
                elif kind == "error":
                    self.error_codes[str(frame.get("code"))] += 1
                self.changed.set()
        except ConnectionClosed:
            pass
        finally:
            if not self.closing:
                self.closed_code = self.ws.close_code or -1
            self.changed.set()

    def _has_ack(self, client_id: str) -> bool:
        return client_id in self.acks

    def _has_answer(self, index: int) -> bool:
        return len(self.agent_at) > index

    async def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed_code is not None:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return True

    async def converse(self, config: WsConfig, deadline: float, tally: Tally) -> None:
        assert self.ws is not None
        await asyncio.sleep(random.uniform(0, config.stagger_s))
        for number in range(config.messages):
            if time.monotonic() >= deadline:
                tally.skipped_by_cap += config.messages - number
                return
            client_id = str(uuid.uuid4())
            text = QUESTIONS[(self.index + number) % len(QUESTIONS)]
            frame = {"type": "message.send", "clientId": client_id, "text": text}
            sent_at = time.perf_counter()
            try:
                await self.ws.send(json.dumps(frame))
            except ConnectionClosed:
                return
            self.sent += 1
            tally.sent += 1
            if not await self._wait(partial(self._has_ack, client_id), config.ack_timeout_s):
                if self.closed_code is None:  # a close is counted on its own
                    tally.ack_timeouts += 1
                return  # later answers could not be told apart: this client stops here
            tally.ack_s.append(self.acks[client_id] - sent_at)
            # Answers come one per message, in order: this message's is agent reply `number`.
            if not await self._wait(partial(self._has_answer, number), config.answer_timeout_s):
                if self.closed_code is None:
                    tally.answer_timeouts += 1
                return
            answered_at = self.agent_at[number]
            self.answered_in_time += 1
            if answered_at < self.acks[client_id]:
                tally.answer_before_ack += 1
            tally.answer_s.append(answered_at - sent_at)
            if number + 1 < config.messages:
                await asyncio.sleep(random.uniform(*config.think_s))

    def settled(self) -> bool:
        return self.closed_code is not None or (
            len(self.acks) >= self.sent and len(self.agent_at) >= self.sent
        )

    async def close(self) -> None:
        self.closing = True
        await socket_close(self.ws, self.reader)


async def warm_up(port: int, agent_id: str, timeout: float = 30.0) -> str | None:
    """One unmeasured round trip (imports, caches, a Celery worker still starting)."""
    config = WsConfig(clients=1, messages=1, stagger_s=0, answer_timeout_s=timeout)
    tally = Tally()
    client = Client(0)
    try:
        if not await client.connect(port, agent_id, config, tally):
            return f"warm-up connect failed: {dict(tally.connect_failures)}"
        await client.converse(config, time.monotonic() + timeout + 15, tally)
        if len(tally.answer_s) != 1:
            return "warm-up message got no answer"
        return None
    finally:
        await client.close()


async def run_ws(port: int, agent_id: str, config: WsConfig) -> dict[str, Any]:
    tally = Tally()
    clients = [Client(i) for i in range(config.clients)]
    gate = asyncio.Semaphore(config.connect_concurrency)
    connect_deadline = time.monotonic() + config.connect_cap_s

    async def connect_one(client: Client) -> bool:
        async with gate:
            if time.monotonic() >= connect_deadline:
                tally.connect_failures["not started: connect cap"] += 1
                return False
            return await client.connect(port, agent_id, config, tally)

    try:
        started = time.perf_counter()
        flags = await asyncio.gather(*(connect_one(c) for c in clients))
        connect_wall = time.perf_counter() - started
        connected = [c for c, ok in zip(clients, flags, strict=True) if ok]
        started = time.perf_counter()
        deadline = time.monotonic() + config.cap_s
        await asyncio.gather(*(c.converse(config, deadline, tally) for c in connected))
        message_wall = time.perf_counter() - started
        drain_deadline = time.monotonic() + config.drain_s
        while time.monotonic() < drain_deadline and not all(c.settled() for c in connected):
            await asyncio.sleep(0.1)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return _result(config, tally, connected, connect_wall, message_wall)


def _result(
    config: WsConfig,
    tally: Tally,
    connected: list[Client],
    connect_wall: float,
    message_wall: float,
) -> dict[str, Any]:
    acked = sum(len(c.acks) for c in connected)
    agent_replies = sum(len(c.agent_at) for c in connected)
    error_frames: Counter[str] = Counter()
    closes: Counter[str] = Counter()
    for client in connected:
        error_frames.update(client.error_codes)
        if client.closed_code is not None:
            closes[str(client.closed_code)] += 1
    answered = len(tally.answer_s)
    lost_answers = sum(max(0, c.sent - len(c.agent_at)) for c in connected)
    return {
        "clients_planned": config.clients,
        "clients_connected": len(connected),
        "messages_per_client": config.messages,
        "messages_planned": config.clients * config.messages,
        "sent": tally.sent,
        "acked": acked,
        "answered_in_time": answered,
        "agent_replies_received": agent_replies,
        "errors": sum(tally.connect_failures.values())
        + sum(error_frames.values())
        + sum(closes.values()),
        "timeouts": tally.ack_timeouts + tally.answer_timeouts,
        "connect_failures": dict(tally.connect_failures),
        "error_frames": dict(error_frames),
        "unexpected_closes": dict(closes),
        "ack_timeouts": tally.ack_timeouts,
        "answer_timeouts": tally.answer_timeouts,
        "lost_acks": sum(max(0, c.sent - len(c.acks)) for c in connected),
        "lost_answers": lost_answers,
        "late_answers": sum(min(len(c.agent_at), c.sent) - c.answered_in_time for c in connected),
        "duplicate_acks": sum(c.duplicate_acks for c in connected),
        "extra_answers": sum(max(0, len(c.agent_at) - c.sent) for c in connected),
        "answer_before_ack": tally.answer_before_ack,
        "skipped_by_cap": tally.skipped_by_cap,
        "connect_wall_s": round(connect_wall, 3),
        "message_wall_s": round(message_wall, 3),
        "answers_per_s": round(answered / message_wall, 1) if message_wall > 0 else None,
        "session_ms": summary_ms(tally.session_s),
        "connect_ready_ms": summary_ms(tally.ready_s),
        "ack_ms": summary_ms(tally.ack_s),
        "answer_ms": summary_ms(tally.answer_s),
        "settings": {
            "connect_concurrency": config.connect_concurrency,
            "think_s": list(config.think_s),
            "ack_timeout_s": config.ack_timeout_s,
            "answer_timeout_s": config.answer_timeout_s,
            "cap_s": config.cap_s,
        },
    }


async def socket_close(ws: Any, reader: asyncio.Task[Any] | None, *, seconds: float = 5) -> None:
    """Close a simulated widget's socket (within `seconds`) and stop its reading task."""
    if ws is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), seconds)
    if reader is not None:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
