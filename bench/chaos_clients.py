"""The clients `make chaos` runs: visitors that behave like the widget, and a staff inbox.

A `Visitor` does what frontend/src/core/chat.js does (docs/widget-api.md): a session
(resumed with its `visitorId` + `visitorSecret` after the first), the widget socket, an
outbox of sends kept until acknowledged and resent with their `clientId` after every
reconnect, `sync` after the last message it saw, and reconnects with the widget's backoff
(doubling from 0.5 s to 30 s, equal jitter). A `StaffClient` holds `/ws/inbox/` with a
staff session cookie and writes internal notes with client ids, resent until answered.

Both record what they saw with wall-clock times (`time.time()`, comparable with the
database's timestamps) for bench.chaos_check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Origin, Subprotocol

from bench.httpclient import HttpConnection
from bench.session import ORIGIN, SESSION_PATH, session_headers
from bench.ws import QUESTIONS, SUBPROTOCOL

STEP_TIMEOUT_S = 10.0
# What a failed (re)connect raises: refused, timed out, a handshake or session refused.
CONNECT_FAULTS = (OSError, TimeoutError, InvalidHandshake, InvalidStatus, RuntimeError, ValueError)
BASE_DELAY_S = 0.5
MAX_DELAY_S = 30.0


def widget_subprotocols(token: str) -> list[Subprotocol]:
    return [Subprotocol(SUBPROTOCOL), Subprotocol("auth." + token)]


async def widget_socket(port: int, token: str) -> ClientConnection:
    """The widget's socket as a browser opens it (docs/widget-api.md), no pings of its own."""
    return await connect(
        f"ws://127.0.0.1:{port}/ws/widget/",
        subprotocols=widget_subprotocols(token),
        origin=Origin(ORIGIN),
        proxy=None,
        open_timeout=STEP_TIMEOUT_S,
        ping_interval=None,
        close_timeout=2,
    )


def reconnect_delay(attempt: int, rng: random.Random) -> float:
    """The widget's delay before retry `attempt` (frontend/src/core/backoff.js)."""
    ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** min(max(attempt, 0), 20))
    return ceiling / 2 + rng.random() * ceiling / 2


@dataclass
class Sent:
    client_id: str
    text: str
    at: float
    acked_at: float | None = None
    message_id: str | None = None


@dataclass
class ClientRecord:
    """What one client sent and saw."""

    sent: dict[str, Sent] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)  # message id -> first seen
    seen_twice: int = 0  # a final message frame for an id already shown (after sync: fine)
    errors: Counter[str] = field(default_factory=Counter)
    error_times: list[tuple[float, str]] = field(default_factory=list)
    connects: list[float] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors[kind] += 1
        self.error_times.append((time.time(), kind))


class ReconnectingClient:
    """A client that stays connected: opens, catches up, reads until the socket drops, and
    comes back with the widget's backoff; its writer runs meanwhile (`_write_loop`)."""

    record: ClientRecord
    rng: random.Random
    ws: ClientConnection | None

    async def _open(self) -> ClientConnection:
        raise NotImplementedError

    async def _caught_up(self) -> None:
        """After (re)connecting, before reading."""

    async def _read(self, ws: ClientConnection) -> None:
        raise NotImplementedError

    async def _write_loop(self, stop: asyncio.Event, every: float) -> None:
        raise NotImplementedError

    async def run(self, stop: asyncio.Event, every: float) -> None:
        """Connect, keep connected, write every `every` s until `stop`."""
        writer = asyncio.create_task(self._write_loop(stop, every))
        attempt = 0
        try:
            while not stop.is_set():
                try:
                    self.ws = await self._open()
                except CONNECT_FAULTS as exc:
                    self.record.error(_kind("connect", exc))
                    await _sleep_or_stop(stop, reconnect_delay(attempt, self.rng))
                    attempt += 1
                    continue
                attempt = 0
                self.record.connects.append(time.time())
                await self._caught_up()
                await self._read(self.ws)
                self.ws = None
                if not stop.is_set():
                    await _sleep_or_stop(stop, reconnect_delay(0, self.rng))
        finally:
            writer.cancel()
            with contextlib.suppress(BaseException):
                await writer
            if self.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.ws.close(), 3)


class Visitor(ReconnectingClient):
    def __init__(self, index: int, port: int, agent_id: str, seed: int) -> None:
        self.index = index
        self.port = port
        self.agent_id = agent_id
        self.rng = random.Random(seed)
        self.record = ClientRecord()
        self.visitor_id: str | None = None
        self.visitor_secret: str | None = None
        self.last_id: str | None = None
        self.ws: ClientConnection | None = None
        self.sends = 0

    # ---- the session and the socket -------------------------------------------------

    async def _session(self) -> str:
        body: dict[str, Any] = {"agentId": self.agent_id, "url": f"{ORIGIN}/chaos"}
        if self.visitor_id and self.visitor_secret:
            body.update(visitorId=self.visitor_id, visitorSecret=self.visitor_secret)
        http = HttpConnection("127.0.0.1", self.port, timeout=STEP_TIMEOUT_S)
        try:
            response = await http.request(
                "POST", SESSION_PATH, json.dumps(body).encode(), session_headers()
            )
        finally:
            await http.close()
        if response.status != 200:
            raise RuntimeError(f"session HTTP {response.status}")
        data = response.json()
        self.visitor_id = data["visitorId"]
        self.visitor_secret = data.get("visitorSecret") or self.visitor_secret
        return str(data["token"])

    async def _open(self) -> ClientConnection:
        ws = await widget_socket(self.port, await self._session())
        frame = json.loads(await asyncio.wait_for(ws.recv(), STEP_TIMEOUT_S))
        if frame.get("type") != "session.ready":
            await ws.close()
            raise RuntimeError(f"first frame {frame.get('type')!r}")
        return ws

    async def _caught_up(self) -> None:
        """After (re)connecting: what was missed, then every unacknowledged send again."""
        if self.last_id:
            await self._send({"type": "sync", "after": self.last_id})
        for sent in list(self.record.sent.values()):
            if sent.acked_at is None:
                await self._send(_send_frame(sent))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self._on_frame(json.loads(raw))
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else 1006
            self.record.error(f"closed {code}")
        except ValueError:
            self.record.error("unreadable frame")

    def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        now = time.time()
        if kind == "message.ack":
            sent = self.record.sent.get(str(frame.get("clientId")))
            if sent is not None and sent.acked_at is None:
                sent.acked_at, sent.message_id = now, str(frame.get("id"))
                self.last_id = sent.message_id
        elif kind == "message":
            message_id = str(frame.get("id"))
            if message_id in self.record.seen:
                self.record.seen_twice += 1
            else:
                self.record.seen[message_id] = now
            self.last_id = message_id
        elif kind == "error":
            self.record.error(f"error {frame.get('code')}")

    # ---- sending ----------------------------------------------------------------------

    async def _write_loop(self, stop: asyncio.Event, every: float) -> None:
        await asyncio.sleep(self.rng.random() * every)
        while not stop.is_set():
            text = QUESTIONS[(self.index + self.sends) % len(QUESTIONS)]
            self.sends += 1
            sent = Sent(client_id=str(uuid.uuid4()), text=text, at=time.time())
            self.record.sent[sent.client_id] = sent  # in the outbox before any attempt
            await self._send(_send_frame(sent))
            await _sleep_or_stop(stop, every)

    async def _send(self, frame: dict[str, Any]) -> None:
        ws = self.ws
        if ws is None:
            return  # offline: the outbox sends it after the next connect
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps(frame))


class StaffClient(ReconnectingClient):
    """The staff inbox: `/ws/inbox/` with a session cookie, notes resent until answered."""

    def __init__(self, port: int, session_key: str, conversation_id: str, seed: int) -> None:
        self.port = port
        self.cookie = f"sessionid={session_key}"
        self.conversation_id = conversation_id
        self.rng = random.Random(seed)
        self.record = ClientRecord()
        self.ws: ClientConnection | None = None
        self.ready_at: list[float] = []

    async def _open(self) -> ClientConnection:
        return await connect(
            f"ws://127.0.0.1:{self.port}/ws/inbox/",
            origin=Origin(f"http://127.0.0.1:{self.port}"),
            additional_headers={"Cookie": self.cookie},
            proxy=None,
            open_timeout=STEP_TIMEOUT_S,
            ping_interval=None,
            close_timeout=2,
        )

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "inbox.ready":
                    self.ready_at.append(time.time())
                    for sent in self.record.sent.values():
                        if sent.acked_at is None:
                            await self._send(self._note_frame(sent))
                elif kind == "done" and frame.get("command") == "note":
                    done = self.record.sent.get(str(frame.get("ref")))
                    if done is not None and done.acked_at is None:
                        done.acked_at = time.time()
                elif kind == "message":
                    message = frame.get("message") or {}
                    self.record.seen.setdefault(str(message.get("id")), time.time())
                elif kind == "error":
                    self.record.error(f"error {frame.get('code')}")
        except ConnectionClosed as exc:
            self.record.error(f"closed {exc.rcvd.code if exc.rcvd else 1006}")

    def _note_frame(self, sent: Sent) -> dict[str, Any]:
        return {
            "type": "note",
            "conversationId": self.conversation_id,
            "text": sent.text,
            "clientId": sent.client_id,
            "ref": sent.client_id,
        }

    async def _write_loop(self, stop: asyncio.Event, every: float) -> None:
        number = 0
        while not stop.is_set():
            await _sleep_or_stop(stop, every)
            number += 1
            sent = Sent(client_id=f"staff-{uuid.uuid4()}", text=f"note {number}", at=time.time())
            self.record.sent[sent.client_id] = sent
            await self._send(self._note_frame(sent))

    async def _send(self, frame: dict[str, Any]) -> None:
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps(frame))


def _send_frame(sent: Sent) -> dict[str, Any]:
    return {"type": "message.send", "clientId": sent.client_id, "text": sent.text, "hp": ""}


def _kind(step: str, exc: BaseException) -> str:
    if isinstance(exc, RuntimeError):
        return f"{step}: {exc}"[:80]
    if isinstance(exc, InvalidStatus):
        return f"{step}: HTTP {exc.response.status_code}"
    return f"{step}: {type(exc).__name__}"


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
