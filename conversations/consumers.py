"""The widget's websocket: authenticate, join the visitor's group, forward frames.

Rules live in services; this consumer only translates between frames and calls.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connections

from agents.models import Agent
from analytics import prometheus
from analytics.presence import PresenceTicket, presence_enter, presence_leave
from conversations import realtime, services, staff
from conversations.lifecycle import conversation_csat_record
from conversations.models import Message
from conversations.parties import Party
from conversations.selectors import message_out, messages_after
from conversations.socket_faults import SurvivesServiceFaults
from conversations.sockets import visitor_message_send, visitor_replay, visitor_socket_open
from core.database_faults import DATABASE_FAULTS, RETRY_AFTER_SECONDS, retried_on_drop
from core.errors import ApiError, InvalidSessionToken
from customers.sessions import WidgetSession, session_token_verify
from security.abuse import message_counters, message_verdict
from security.client_ip import client_ip
from security.frames import FrameRefused, RefusalLog, frame_parse
from security.limits import limit_for
from security.ratelimit import Decision, Limit, arate_limit_hit, arate_limits_gated

logger = logging.getLogger(__name__)
T = TypeVar("T")

SUBPROTOCOL = "customeragent.v2"
AUTH_PREFIX = "auth."
MAX_CLIENT_ID = 64
MAX_TEXT = 4000

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

    hop: Callable[..., Awaitable[T]] = database_sync_to_async(
        call_and_release, thread_sensitive=False
    )
    return hop


# Channel-layer events this consumer only forwards. They touch no database, so they skip
# the connection clean-up Channels runs before every event, which costs each of them a
# trip through the process's single sync thread (the queue behind every ORM call).
FORWARD_ONLY_EVENTS = frozenset(
    {"message.created", "message.delta", "typing.changed", "conversation.status", "greeting.ready"}
)


class WidgetConsumer(SurvivesServiceFaults, AsyncJsonWebsocketConsumer):
    session: WidgetSession
    party: Party
    agent: Agent
    limits: dict[str, int]
    ip: str
    workspace_id: int
    group: str | None = None  # joined (and so left on disconnect)
    counted: bool = False  # in the open-sockets gauge
    presence: PresenceTicket | None = None
    _refusals: RefusalLog | None = None  # made on the first refused frame
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
        ip = _client_ip(self.scope)
        party = Party.of(session)
        # Joined before the database is read below, so a message or greeting written after
        # that read still arrives; a refused socket leaves again at once, unheard.
        self.group = realtime.owner_group(session.agent_id, party.owner_key)
        await self.channel_layer.group_add(self.group, self.channel_name)
        opening = await in_db_thread(retried_on_drop(visitor_socket_open))(
            session=session, origin=origin, ip=ip
        )
        if opening.agent is None or opening.access is None:
            logger.warning(
                "websocket refused (%s) for %s from %r, %s",
                opening.refusal,
                session.agent_id,
                origin,
                ip,
            )
            unverified = opening.refusal == "unverified"
            await self.close(code=CLOSE_UNAUTHORIZED if unverified else CLOSE_FORBIDDEN)
            return
        self.limits = opening.access.rate_limits
        self.ip, self.workspace_id = ip, opening.access.workspace_id
        if not await self._within("connect_per_ip", ip):
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        self.session, self.party, self.agent = session, party, opening.agent
        prometheus.websocket_opened()
        self.counted = True
        self.presence = await presence_enter(
            agent_id=session.agent_id, connection_id=self.channel_name
        )
        await self.send_json(
            {
                "type": "session.ready",
                "conversationId": opening.conversation_id,
                "visitorId": session.visitor_id,
            }
        )
        if opening.greeting:
            await self.send_json({"type": "greeting", "text": opening.greeting})

    async def send(self, message: dict[str, Any]) -> None:
        try:
            await super().send(message)
        except OSError:
            # The client has gone (the server's ClientDisconnected), perhaps dropped for
            # not reading (config.ws_protocol). Its disconnect event follows and cleans up;
            # the handler goes on meanwhile, so a stored message is still followed up.
            logger.debug("send to a closed socket dropped")

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") in FORWARD_ONLY_EVENTS:
            await getattr(self, get_handler_name(message))(message)
            return
        # A database fault here was already retried once where that is safe
        # (retried_on_drop); raised on, it closes the socket 1013 (SurvivesServiceFaults)
        # with nothing acked, and the widget comes back and resends.
        await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        if self._refusals is not None:
            self._refusals.summary()
        if self.counted:  # before anything that needs Redis, which may be what failed
            prometheus.websocket_closed()
            self.counted = False
        if self.presence is not None:
            await presence_leave(self.presence)  # "visitors live now" in the dashboard
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.counted or self.closing:
            return
        # Read before it is counted (frame_parse reads at most 32 KB of text), so that one
        # Redis round trip counts every limit the frame is subject to.
        content = frame_parse(text_data, bytes_data)
        sending = _sending(content) if not isinstance(content, FrameRefused) else None
        # Every frame counts, binary, oversized and unparsable ones too, so a flood of them
        # is closed like any other; a message also counts against its visitor's limit and,
        # when that lets it through, its abuse counters (security.abuse).
        gates = [(limit_for("frame_per_connection", self.limits), self.channel_name)]
        counted: list[tuple[Limit, str]] = []
        if isinstance(sending, Sending):
            visitor_id = self.session.visitor_id
            gates.append((limit_for("message_per_visitor", self.limits), visitor_id))
            counted = message_counters(visitor_id=visitor_id, text=sending.text)
        decisions = await arate_limits_gated(gates, counted)
        if not decisions[0].allowed:
            logger.warning("frame flood from %s; closing", self.session.visitor_id)
            await self._close(CLOSE_RATE_LIMITED)
            return
        if self.session.expires_at <= datetime.now(UTC):
            await self._close(CLOSE_UNAUTHORIZED)
            return
        if isinstance(content, FrameRefused):
            await self._error("invalid_frame", content.message, kind=content.kind)
        elif isinstance(sending, str):
            await self._error("invalid_request", sending)
        elif sending is not None:
            await self._message_send(sending, decisions[1:])
        else:
            await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type")
        if kind == "sync":
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
        return decision.allowed

    async def _message_send(self, sending: Sending, decisions: list[Decision]) -> None:
        client_id, text = sending.client_id, sending.text
        if not decisions[0].allowed:
            await self.send_json(
                {
                    "type": "error",
                    "code": "rate_limited",
                    "message": "You are sending messages too fast; wait a moment.",
                    "clientId": client_id,
                    "retryAfter": decisions[0].retry_after,
                }
            )
            return
        repeated, burst = decisions[1:]
        verdict = message_verdict(
            text=text, honeypot=sending.honeypot, repeated=repeated, burst=burst
        )
        try:
            # One hop: the verdict acted on (when it calls for it), else the message stored;
            # on a fresh connection if PostgreSQL dropped the first (stored once by clientId).
            outcome = await in_db_thread(retried_on_drop(visitor_message_send))(
                agent=self.agent,
                party=self.party,
                workspace_id=self.workspace_id,
                ip=self.ip,
                verdict=verdict,
                client_id=client_id,
                text=text,
                origin=self.session.origin,
                page_url=self.session.page_url,
            )
        except ApiError as exc:
            await self._error(exc.code, exc.message)
            return
        except DATABASE_FAULTS:
            await self.send_json(
                {
                    "type": "error",
                    "code": "unavailable",
                    "message": "Your message is not sent yet; it will go when the chat reconnects.",
                    "clientId": client_id,
                    "retryAfter": RETRY_AFTER_SECONDS,
                }
            )
            raise
        if outcome.received is None:
            await self.send_json(
                {
                    "type": "error",
                    "code": "rate_limited",
                    "message": "This message looks like spam and was not sent.",
                    "clientId": client_id,
                }
            )
            if outcome.refusal == "blocked":
                await self._close(CLOSE_FORBIDDEN)
            return
        message = outcome.received.message
        shown = message_out(message)
        if outcome.received.created:
            prometheus.websocket_message_acked()
        await self.send_json(
            {
                "type": "message.ack",
                "clientId": client_id,
                "id": message.public_id,
                "createdAt": shown["createdAt"],
            }
        )
        if outcome.received.created:
            await self.send_json({"type": "message", **shown})  # this tab's copy, as others get
            await self._followup(message)

    async def _followup(self, message: Message) -> None:
        """After the ack (the message is stored): the visitor's other tabs and the inbox,
        then the handoff rules or the reply (conversations.services.message_followup's
        order). This socket's next frame waits, so its messages go out in order."""
        try:
            await realtime.abroadcast_visitor_message(message, sender=self.channel_name)
        except Exception:
            # A missed echo heals on the next sync; a missed reply would not, so go on.
            logger.exception("fan-out of %s failed", message.public_id)
        try:
            await in_db_thread(services.message_route)(message)
        except Exception:
            logger.exception("routing %s failed", message.public_id)

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
        anchor = after if isinstance(after, str) else None
        replay = await in_db_thread(retried_on_drop(visitor_replay))(
            agent=self.agent, party=self.party, after=anchor
        )
        if replay is None:
            return
        rows, has_more = replay.messages, replay.has_more
        while True:
            for row in rows:
                await self.send_json({"type": "message", **message_out(row)})
            if not has_more or not rows or anchor is None:
                break
            anchor = rows[-1].public_id
            rows, has_more = await in_db_thread(messages_after)(
                conversation=replay.conversation, after=anchor
            )

    @property
    def refusals(self) -> RefusalLog:
        if self._refusals is None:
            self._refusals = RefusalLog(logger, f"widget socket of {self.session.visitor_id}")
        return self._refusals

    async def _error(self, code: str, message: str, *, kind: str | None = None) -> None:
        self.refusals.note(kind or code, message)  # logged once per kind and connection
        await self.send_json({"type": "error", "code": code, "message": message})

    async def _close(self, code: int) -> None:
        self.closing = True
        await self.close(code=code)

    # Channel-layer events (names map from "message.created" -> message_created).
    async def message_created(self, event: dict[str, Any]) -> None:
        if event.get("sender") == self.channel_name:
            return  # this socket's own message: it showed it already
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


@dataclass(frozen=True)
class Sending:
    """A `message.send` frame's fields, checked."""

    client_id: str
    text: str
    honeypot: str | None


def _sending(content: Any) -> Sending | str | None:
    """A message.send frame's fields, why they are invalid, or None for another frame."""
    if content.get("type") != "message.send":
        return None
    client_id, text = content.get("clientId"), content.get("text")
    if not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_CLIENT_ID:
        return "clientId must be a string of 1-64 characters."
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return "text must be 1-4000 characters."
    honeypot = content.get("hp")
    return Sending(client_id, text, honeypot if isinstance(honeypot, str) else None)


def _client_ip(scope: dict[str, Any]) -> str:
    peer = scope.get("client") or (None, None)
    return client_ip(peer[0], _header(scope, b"x-forwarded-for") or None)


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""
