"""One simulated widget of a `bench.scale` load process, and the tally of its connects.

A widget here does what the real one does: `POST /api/v2/widget/session` from an allowed
Origin, then `ws://…/ws/widget/` with the subprotocols `customeragent.v2` and
`auth.<token>`, waits for `session.ready`, sends `message.send` frames with a fresh
`clientId` and reads `message.ack`, `message` and `message.delta` frames
(docs/widget-api.md). What it saw is kept raw in its ledger (bench.scale_ledger).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin, Subprotocol

from bench.httpclient import HttpConnection
from bench.scale_ledger import Ledger
from bench.session import ORIGIN, SESSION_PATH, session_body, session_headers, session_ok
from bench.ws import QUESTIONS, SUBPROTOCOL, socket_close

STEP_TIMEOUT_S = 10.0  # each of: the session request, the handshake, `session.ready`


class Widget:
    """One simulated widget: its session, its socket and the ledger of what it saw."""

    def __init__(self, index: int, source: str) -> None:
        self.index = index
        self.source = source
        self.ws: ClientConnection | None = None
        self.ledger = Ledger()
        self.reader: asyncio.Task[None] | None = None
        self.closing = False
        self.closed_code: int | None = None
        self.sends = 0

    async def connect(self, port: int, agent_id: str, tally: dict[str, Any]) -> bool:
        """Session, handshake, `session.ready`; records the timings or the failure."""
        step = "session"
        started = time.perf_counter()
        try:
            http = HttpConnection("127.0.0.1", port, timeout=STEP_TIMEOUT_S, local_addr=self.source)
            try:
                response = await http.request(
                    "POST", SESSION_PATH, session_body(agent_id), session_headers()
                )
            finally:
                await http.close()
            if not session_ok(response):
                raise RuntimeError(f"HTTP {response.status}")
            token = str(response.json()["token"])
            session_done = time.perf_counter()
            step = "handshake"
            self.ws = await connect(
                f"ws://127.0.0.1:{port}/ws/widget/",
                subprotocols=[Subprotocol(SUBPROTOCOL), Subprotocol("auth." + token)],
                origin=Origin(ORIGIN),
                proxy=None,
                open_timeout=STEP_TIMEOUT_S,
                ping_interval=None,  # browsers do not ping; the server may, and we answer
                close_timeout=3,
                local_addr=(self.source, 0),
            )
            if self.ws.subprotocol != SUBPROTOCOL:
                raise RuntimeError(f"subprotocol {self.ws.subprotocol!r}")
            step = "ready"
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), STEP_TIMEOUT_S))
            if frame.get("type") != "session.ready":
                raise RuntimeError(f"first frame {frame.get('type')!r}")
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            count_failure(tally, f"{step}: closed {code}")
            await self._abandon()
            return False
        except (TimeoutError, OSError, InvalidHandshake, RuntimeError, ValueError) as exc:
            detail = str(exc) if isinstance(exc, RuntimeError) else type(exc).__name__
            count_failure(tally, f"{step}: {detail}"[:120])
            await self._abandon()
            return False
        ready = time.perf_counter()
        tally["ok"] += 1
        tally["session_s"].append(session_done - started)
        tally["ready_s"].append(ready - session_done)
        tally["connect_s"].append(ready - started)
        self.reader = asyncio.create_task(self._read())
        return True

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                at = time.perf_counter()
                try:
                    frame = json.loads(raw)
                except ValueError:
                    self.ledger.error_frames["unreadable frame"] += 1
                    continue
                if isinstance(frame, dict):
                    self.ledger.on_frame(frame, at)
        except ConnectionClosed:
            pass
        finally:
            if not self.closing:
                self.closed_code = self.ws.close_code or -1

    async def send_question(self) -> bool:
        assert self.ws is not None
        client_id = str(uuid.uuid4())
        text = QUESTIONS[(self.index + self.sends) % len(QUESTIONS)]
        frame = json.dumps({"type": "message.send", "clientId": client_id, "text": text, "hp": ""})
        self.ledger.on_send(client_id, time.perf_counter())
        self.sends += 1
        try:
            await self.ws.send(frame)
        except ConnectionClosed:
            return False
        return True

    def settled(self, answers: bool) -> bool:
        raw = self.ledger
        if self.closed_code is not None:
            return True
        if len(raw.acked) < len(raw.sent_at):
            return False
        return not answers or len(raw.answers_at) >= len(raw.sent_at)

    async def _abandon(self) -> None:
        if self.ws is not None:
            self.closing = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 3)
            self.ws = None

    async def close(self) -> None:
        self.closing = True
        await socket_close(self.ws, self.reader)


def count_failure(tally: dict[str, Any], kind: str) -> None:
    """One more failed connect of this kind in the tally."""
    tally["failures"][kind] = tally["failures"].get(kind, 0) + 1


def connect_tally() -> dict[str, Any]:
    """An empty tally of connects: successes, failures by kind and each step's seconds."""
    return {"ok": 0, "failures": {}, "session_s": [], "ready_s": [], "connect_s": []}
