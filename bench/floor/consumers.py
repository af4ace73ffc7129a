"""A widget-shaped socket that only acknowledges: the floor of the websocket path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

SUBPROTOCOL = "customeragent.v2"


class AckOnlyConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        if SUBPROTOCOL not in (self.scope.get("subprotocols") or []):
            await self.close()
            return
        await self.accept(subprotocol=SUBPROTOCOL)
        await self.send_json(
            {"type": "session.ready", "conversationId": None, "visitorId": "vis_floor"}
        )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "message.send":
            return
        await self.send_json(
            {
                "type": "message.ack",
                "clientId": content.get("clientId"),
                "id": f"msg_{uuid.uuid4().hex}",
                "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        )
