"""What the widget's and the inbox's websockets share: surviving service faults, sends to
a client that has gone, and channel-layer events forwarded without the database."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from conversations.sockets.faults import SurvivesServiceFaults

logger = logging.getLogger(__name__)


class ChatSocket(SurvivesServiceFaults, AsyncJsonWebsocketConsumer):
    # Channel-layer events the consumer only forwards. They touch no database, so they skip
    # the connection clean-up Channels runs before every event, which costs each of them a
    # trip through the process's single sync thread (the queue behind every ORM call).
    forward_only_events: ClassVar[frozenset[str]] = frozenset()

    async def send(self, message: dict[str, Any]) -> None:
        try:
            await super().send(message)
        except OSError:
            # The client has gone (the server's ClientDisconnected), perhaps dropped for
            # not reading (config.ws_protocol). Its disconnect event follows and cleans up;
            # the handler goes on meanwhile, so a stored message is still followed up.
            logger.debug("send to a closed socket dropped")

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") in self.forward_only_events:
            await getattr(self, get_handler_name(message))(message)
            return
        # A database fault here was already retried once where that is safe
        # (retried_on_drop); raised on, it closes the socket 1013 (SurvivesServiceFaults)
        # with nothing acked, and the client comes back and resends.
        await super().dispatch(message)
