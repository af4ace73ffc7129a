"""What a websocket does when Redis fails under it (docs/operations.md#faults).

Every socket's channel is read from Redis (the channel layer), so a Redis restart or an
outage breaks all of a process's sockets at the same moment. Without this, each consumer
died with "Exception in ASGI application" and a traceback, and the browser saw an abrupt
1006. A consumer with `SurvivesRedisFaults` instead logs the fault (once per process every
FAULT_LOG_SECONDS, with the count since), leaves what it can and closes with 1013 ("try
again later"): the widget and the inbox spread their return over 0.5-10 s, then sync and
resend. Nothing the visitor sent is lost: a message is acknowledged only once stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from config.redis_pools import REDIS_FAULTS

logger = logging.getLogger(__name__)

CLOSE_TRY_AGAIN = 1013
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
            "Redis failed under the websockets (%s: %s); closing them 1013 "
            "(%d more since the last report)",
            type(exc).__name__,
            exc,
            self.unlogged,
        )
        self.logged_at, self.unlogged = now, 0


fault_log = _FaultLog()


class SurvivesRedisFaults:
    """Mixin for a Channels websocket consumer (before the consumer class in the bases)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)  # type: ignore[misc]
        except REDIS_FAULTS as exc:
            fault_log.record(exc)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.disconnect(CLOSE_TRY_AGAIN), LEAVE_SECONDS)  # type: ignore[attr-defined]
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})
