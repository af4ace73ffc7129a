"""The widget's websocket: authenticate, join the visitor's group, forward frames.

Rules live in services; this consumer only translates between frames and calls.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connections

from analytics import prometheus
from analytics.presence import PresenceTicket, presence_enter, presence_leave
from conversations import realtime, services, staff
from conversations.greetings import greeting_remembered
from conversations.lifecycle import conversation_csat_record
from conversations.parties import Party
from conversations.selectors import conversation_current, message_out, messages_after
from customers.sessions import WidgetSession, session_token_verify
from security.abuse import message_screen
from security.client_ip import client_ip
from security.errors import ApiError, InvalidSessionToken
from security.frames import FrameRefused, RefusalLog, frame_parse
from security.limits import limit_for
from security.ratelimit import arate_limit_hit
from widgets.installation import installation_origin_note
from widgets.services import widget_admit

logger = logging.getLogger(__name__)
T = TypeVar("T")

SUBPROTOCOL = "customeragent.v2"
AUTH_PREFIX = "auth."
MAX_CLIENT_ID = 64

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RATE_LIMITED = 4429


def in_db_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run ORM work in a pool thread, concurrently with other visitors' work.

    Channels' default is the process's single sync thread, where every visitor's message
    would queue behind every other's. Each call here is self-contained (its own
    transaction) and hands its connection back (to the process's pool, on PostgreSQL) when
    it is done, so no thread keeps one.
    """

    def call_and_release(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return database_sync_to_async(call_and_release, thread_sensitive=False)


# Channel-layer events this consumer only forwards. They touch no database, so they skip
# the connection clean-up Channels runs before every event, which costs each of them a
# trip through the process's single sync thread (the queue behind every ORM call).
FORWARD_ONLY_EVENTS = frozenset(
    {"message.created", "message.delta", "typing.changed", "conversation.status", "greeting.ready"}
)


class WidgetConsumer(AsyncJsonWebsocketConsumer):
    session: WidgetSession
    party: Party
    group: str
    limits: dict[str, int]
    ip: str
    workspace_id: int
    retry_after: int = 0
    presence: PresenceTicket
    refusals: RefusalLog
    closing: bool = False  # closed by us: frames still queued are not read

    async def connect(self) -> None:
        offered: list[str] = list(self.scope.get("subprotocols") or [])
        if SUBPROTOCOL not in offered:
            await self.close()  # refused at the handshake: not our protocol
            return
        token = next((p[len(AUTH_PREFIX) :] for p in offered if p.startswith(AUTH_PREFIX)), "")
        origin = _header(self.scope, b"origin")
        # Accept first so the close code reaches the browser (a refused handshake has none).
        await self.accept(subprotocol=SUBPROTOCOL)
        try:
            session = session_token_verify(token)
        except InvalidSessionToken:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.refusals = RefusalLog(logger, f"widget socket of {session.visitor_id}")
        ip = _client_ip(self.scope)
        admission = await in_db_thread(widget_admit)(
            agent_public_id=session.agent_id, origin=origin, token_origin=session.origin, ip=ip
        )
        if admission.agent is None or admission.access is None:
            logger.warning(
                "websocket refused (%s) for %s from %r, %s",
                admission.refusal,
                session.agent_id,
                origin,
                ip,
            )
            if admission.refusal == "origin":
                await in_db_thread(installation_origin_note)(
                    agent_public_id=session.agent_id, origin=origin
                )
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if admission.access.identity_required and not session.customer_verified:
            logger.info("websocket refused for unverified visitor of %s", session.agent_id)
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.limits = admission.access.rate_limits
        self.ip, self.workspace_id = ip, admission.access.workspace_id
        if not await self._within("connect_per_ip", ip):
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        agent = admission.agent
        self.session = session
        self.party = Party.of(session)
        self.agent = agent
        self.group = realtime.owner_group(session.agent_id, self.party.owner_key)
        await self.channel_layer.group_add(self.group, self.channel_name)
        prometheus.websocket_opened()  # closed in disconnect(), which checks `group` too
        self.presence = await presence_enter(
            agent_id=session.agent_id, connection_id=self.channel_name
        )
        conversation = await in_db_thread(conversation_current)(
            agent_id=agent.pk, owner_key=self.party.owner_key
        )
        await self.send_json(
            {
                "type": "session.ready",
                "conversationId": conversation.public_id if conversation else None,
                "visitorId": session.visitor_id,
            }
        )
        # A personalized greeting computed after this session's answer (conversations.
        # greetings) and pushed before this socket joined the group would be missed.
        if session.customer_verified and session.customer_id:
            greeting = await in_db_thread(greeting_remembered)(
                agent=agent, customer_id=session.customer_id
            )
            if greeting:
                await self.send_json({"type": "greeting", "text": greeting})

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") in FORWARD_ONLY_EVENTS:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "refusals"):
            self.refusals.summary()
        if hasattr(self, "presence"):
            await presence_leave(self.presence)  # "visitors live now" in the dashboard
        if hasattr(self, "group"):
            prometheus.websocket_closed()
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not hasattr(self, "session") or self.closing:
            return
        # Every frame counts, before anything is read from it: binary, oversized and
        # unparsable frames too, so a flood of them is closed like any other.
        if not await self._within("frame_per_connection", self.channel_name):
            logger.warning("frame flood from %s; closing", self.session.visitor_id)
            await self._close(CLOSE_RATE_LIMITED)
            return
        if self.session.expires_at <= datetime.now(UTC):
            await self._close(CLOSE_UNAUTHORIZED)
            return
        content = frame_parse(text_data, bytes_data)
        if isinstance(content, FrameRefused):
            await self._error("invalid_frame", content.message, kind=content.kind)
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type")
        if kind == "message.send":
            await self._message_send(content)
        elif kind == "sync":
            await self._replay(content.get("after"))
        elif kind == "csat":
            await self._csat(content)
        elif kind == "typing":
            await in_db_thread(staff.visitor_typing_relay)(
                agent_id=self.agent.pk,
                workspace_id=self.workspace_id,
                owner_key=self.party.owner_key,
                state=content.get("state") is True,
            )
        else:
            await self._error("unknown_type", f"Unknown frame type {str(kind)[:40]!r}.")

    async def _within(self, limit_name: str, key: str) -> bool:
        decision = await arate_limit_hit(limit_for(limit_name, self.limits), key)
        self.retry_after = decision.retry_after
        return decision.allowed

    async def _message_send(self, content: dict[str, Any]) -> None:
        client_id, text = content.get("clientId"), content.get("text")
        if not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID:
            await self._error("invalid_request", "clientId must be a string of 1-64 characters.")
            return
        if not isinstance(text, str) or not text.strip() or len(text) > 4000:
            await self._error("invalid_request", "text must be 1-4000 characters.")
            return
        if not await self._within("message_per_visitor", self.session.visitor_id):
            await self.send_json(
                {
                    "type": "error",
                    "code": "rate_limited",
                    "message": "You are sending messages too fast; wait a moment.",
                    "clientId": client_id,
                    "retryAfter": self.retry_after,
                }
            )
            return
        honeypot = content.get("hp")
        action = await in_db_thread(message_screen)(
            workspace_id=self.workspace_id,
            agent_id=self.session.agent_id,
            visitor_id=self.session.visitor_id,
            ip=self.ip,
            text=text,
            honeypot=honeypot if isinstance(honeypot, str) else None,
        )
        if action is not None:
            await self.send_json(
                {
                    "type": "error",
                    "code": "rate_limited",
                    "message": "This message looks like spam and was not sent.",
                    "clientId": client_id,
                }
            )
            if action == "blocked":
                await self._close(CLOSE_FORBIDDEN)
            return
        try:
            received = await in_db_thread(services.message_receive)(
                agent=self.agent,
                party=self.party,
                client_id=client_id,
                text=text,
                origin=self.session.origin,
                page_url=self.session.page_url,
            )
        except ApiError as exc:
            await self._error(exc.code, exc.message)
            return
        message = received.message
        if received.created:
            prometheus.websocket_message_acked()
        await self.send_json(
            {
                "type": "message.ack",
                "clientId": client_id,
                "id": message.public_id,
                "createdAt": message_out(message)["createdAt"],
            }
        )

    async def _csat(self, content: dict[str, Any]) -> None:
        try:
            conversation = await in_db_thread(conversation_csat_record)(
                agent=self.agent,
                party=self.party,
                conversation_id=content.get("conversationId"),
                score=content.get("score"),
                comment=content.get("comment", ""),
            )
        except ApiError as exc:
            await self._error(exc.code, exc.message)
            return
        await self.send_json({"type": "csat.ack", "conversationId": conversation.public_id})

    async def _replay(self, after: object) -> None:
        conversation = await in_db_thread(conversation_current)(
            agent_id=self.agent.pk, owner_key=self.party.owner_key
        )
        if conversation is None:
            return
        anchor = after if isinstance(after, str) else None
        has_more = True
        while has_more:
            rows, has_more = await in_db_thread(messages_after)(
                conversation=conversation, after=anchor
            )
            for row in rows:
                await self.send_json({"type": "message", **message_out(row)})
            if not rows or anchor is None:
                break
            anchor = rows[-1].public_id

    async def _error(self, code: str, message: str, *, kind: str | None = None) -> None:
        self.refusals.note(kind or code, message)  # logged once per kind and connection
        await self.send_json({"type": "error", "code": code, "message": message})

    async def _close(self, code: int) -> None:
        self.closing = True
        await self.close(code=code)

    # Channel-layer events (names map from "message.created" -> message_created).
    async def message_created(self, event: dict[str, Any]) -> None:
        if event["message"].get("role") == "note":
            return  # internal notes are for staff (never sent here; doubly never shown)
        await self.send_json({"type": "message", **event["message"]})

    async def message_delta(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message.delta", "id": event["id"], "delta": event["delta"]})

    async def greeting_ready(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "greeting", "text": event["text"]})

    async def conversation_status(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def typing_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "typing", "role": event["role"], "state": event["state"]})


def _client_ip(scope: dict[str, Any]) -> str:
    peer = scope.get("client") or (None, None)
    return client_ip(peer[0], _header(scope, b"x-forwarded-for") or None)


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""
