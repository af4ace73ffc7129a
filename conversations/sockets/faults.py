"""What a websocket does when Redis or PostgreSQL fails under it (docs/operations.md#faults).

Every socket's channel is read from Redis (the channel layer), so a Redis restart or an
outage breaks all of a process's sockets at the same moment; the staff inbox reads its
session from PostgreSQL before its consumer even runs. Without this, each socket died with
"Exception in ASGI application" and a traceback, and the browser saw an abrupt 1006 or a
500 handshake. Instead the fault is logged once per process every FAULT_LOG_SECONDS (with
the count since) and the socket closes with 1013 ("try again later"): the widget and the
inbox spread their return over 0.5-10 s, then sync and resend. Nothing the visitor sent is
lost: a message is acknowledged only once stored.

`SurvivesServiceFaults` does it for a consumer (and lets it leave its groups and counters
first); `survives_service_faults` for anything in front of one (the session and auth
middleware of the inbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from conversations.realtime.protocol import CLOSE_TRY_AGAIN
from core.database_faults import SERVICE_FAULTS

logger = logging.getLogger(__name__)

FAULT_LOG_SECONDS = 10.0
LEAVE_SECONDS = 2.0  # leaving groups and presence, best effort, on a Redis in trouble


class _FaultLog:
    """One warning per FAULT_LOG_SECONDS per process, not one per socket."""

    def __init__(self) -> None:
        self.logged_at = -FAULT_LOG_SECONDS
        self.unlogged = 0

    def record(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self.logged_at < FAULT_LOG_SECONDS:
            self.unlogged += 1
            return
        logger.warning(
            "a service failed under the websockets (%s: %s); closing them 1013 "
            "(%d more since the last report)",
            type(exc).__name__,
            exc,
            self.unlogged,
        )
        self.logged_at, self.unlogged = now, 0


fault_log = _FaultLog()


class SurvivesServiceFaults:
    """Mixin for a Channels websocket consumer (before the consumer class in the bases)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)  # type: ignore[misc]
        except SERVICE_FAULTS as exc:
            fault_log.record(exc)
            with contextlib.suppress(Exception):
                leave = self.disconnect(CLOSE_TRY_AGAIN)  # type: ignore[attr-defined]
                await asyncio.wait_for(leave, LEAVE_SECONDS)
            await _close_try_again(send, accepted=True)


def survives_service_faults(app: Any) -> Any:
    """ASGI middleware: a fault in `app` before or after the handshake closes the socket
    1013 (accepting it first when needed, so the browser sees the code)."""

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        accepted = False

        async def watched(message: dict[str, Any]) -> None:
            nonlocal accepted
            accepted = accepted or message.get("type") == "websocket.accept"
            await send(message)

        try:
            await app(scope, receive, watched)
        except SERVICE_FAULTS as exc:
            fault_log.record(exc)
            await _close_try_again(send, accepted=accepted)

    return guarded


async def _close_try_again(send: Any, *, accepted: bool) -> None:
    with contextlib.suppress(Exception):
        if not accepted:
            await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})
