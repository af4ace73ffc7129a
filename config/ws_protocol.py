"""uvicorn's websocket protocol with a bound on a client that stops reading.

A socket whose client does not read fills its send buffer; uvicorn then pauses the app's
sends (good: the buffer stops growing at the transport's high-water mark, 64 KiB) but
waits forever, and when it gives up on the socket (a missed pong, the close handshake's
timeout) it only *closes* the transport, which waits for the buffer to drain: from a
client that never reads, never. Each such socket would keep its buffers, its consumer and
its channel-layer queue for good.

This protocol, named in WEB_SERVER (`--ws config.ws_protocol:BoundedWebSocketProtocol`):
- closes a socket whose send buffer stayed full for SLOW_READER_SECONDS with 4429 ("too
  slow": the widget backs off, reconnects and syncs what it missed), the close frame
  queued behind what the client has not read;
- aborts any transport still open ABORT_AFTER_SECONDS after it was asked to close, so its
  memory is freed whatever the client does.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from conversations.realtime.protocol import CLOSE_RATE_LIMITED

logger = logging.getLogger(__name__)

SLOW_READER_SECONDS = 10.0
ABORT_AFTER_SECONDS = 5.0


class BoundedWebSocketProtocol(WebSocketsSansIOProtocol):
    stall_timer: asyncio.TimerHandle | None = None
    abort_timer: asyncio.TimerHandle | None = None

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.stall_timer is None and not self.disconnected:
            self.stall_timer = self.loop.call_later(SLOW_READER_SECONDS, self.drop_slow_reader)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.stall_timer is not None:
            self.stall_timer.cancel()
            self.stall_timer = None

    def drop_slow_reader(self) -> None:
        self.stall_timer = None
        if self.disconnected or self.transport.is_closing():
            return
        logger.warning(
            "websocket of %s not reading for %.0f s; closing", self.client, SLOW_READER_SECONDS
        )
        if not self.close_sent:
            # The app's next send finds the socket closing and learns it is gone.
            self.conn.send_close(CLOSE_RATE_LIMITED, "too slow")  # the contract's "slow down"
            self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()
        self.abort_soon()

    def abort_soon(self) -> None:
        """The transport was asked to close: make sure it is gone in a few seconds."""
        if self.abort_timer is None and not self.disconnected:
            self.abort_timer = self.loop.call_later(ABORT_AFTER_SECONDS, self.abort_if_open)

    def abort_if_open(self) -> None:
        self.abort_timer = None
        if not self.disconnected:
            self.transport.abort()

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        self.abort_soon()

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.close" and self.close_timer is not None:
            # uvicorn closes the transport when the client does not answer our close in
            # time; a client that does not read never answers.
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(self.close_timeout, self.close_and_abort)

    def close_and_abort(self) -> None:
        self.close_timer = None
        self.transport.close()
        self.abort_soon()

    async def run_asgi(self) -> None:
        await super().run_asgi()
        if self.close_timer is None:
            self.abort_soon()  # uvicorn closed the transport as the app finished

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self.stall_timer, self.abort_timer):
            if timer is not None:
                timer.cancel()
        self.stall_timer = self.abort_timer = None
        super().connection_lost(exc)
