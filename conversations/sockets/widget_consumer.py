"""The widget's websocket: authenticate, join the visitor's group, forward frames.

Rules live in services; this consumer only translates between frames and calls.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from agents.models import Agent
from analytics.monitoring import prometheus
from analytics.presence import PresenceTicket, presence_enter, presence_leave
from conversations import services, staff
from conversations.lifecycle import conversation_csat_record
from conversations.models import Message
from conversations.parties import Party
from conversations.realtime import broadcast
from conversations.realtime.groups import owner_group
from conversations.realtime.protocol import (
    AUTH_PREFIX,
    CLOSE_FORBIDDEN,
    CLOSE_RATE_LIMITED,
    CLOSE_UNAUTHORIZED,
    SUBPROTOCOL,
)
from conversations.selectors import message_out, messages_after
from conversations.services import Received
from conversations.sockets.base import ChatSocket
from conversations.sockets.connection import in_db_thread, scope_client_ip, scope_header
from conversations.sockets.frames import (
    LOOKS_LIKE_SPAM,
    NOT_SENT_YET,
    TOO_FAST,
    Sending,
    ack_frame,
    error_frame,
    sending_parse,
)
from conversations.sockets.widget_socket import (
    MessageSending,
    visitor_message_send,
    visitor_replay,
    visitor_socket_open,
)
from core.database_faults import DATABASE_FAULTS, RETRY_AFTER_SECONDS, retried_on_drop
from core.errors import ApiError, InvalidSessionToken
from customers.sessions import WidgetSession, session_token_verify
from security.abuse import Verdict, message_counters, message_verdict
from security.frames import FrameRefused, RefusalLog, frame_parse
from security.limits import limit_for
from security.ratelimit import Decision, Limit, arate_limit_hit, arate_limits_gated

logger = logging.getLogger(__name__)


class WidgetConsumer(ChatSocket):
    forward_only_events = frozenset(
        {
            "message.created",
            "message.delta",
            "typing.changed",
            "conversation.status",
            "greeting.ready",
        }
    )
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
        origin = scope_header(self.scope, b"origin")
        # Accept first so the close code reaches the browser (a refused handshake has none).
        await self.accept(subprotocol=SUBPROTOCOL)
        try:
            session = session_token_verify(token)
        except InvalidSessionToken:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        ip = scope_client_ip(self.scope)
        party = Party.of(session)
        # Joined before the database is read below, so a message or greeting written after
        # that read still arrives; a refused socket leaves again at once, unheard.
        self.group = owner_group(session.agent_id, party.owner_key)
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
        sending = sending_parse(content) if not isinstance(content, FrameRefused) else None
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
        client_id = sending.client_id
        if not decisions[0].allowed:
            retry_after = decisions[0].retry_after
            await self.send_json(
                error_frame("rate_limited", TOO_FAST, client_id=client_id, retry_after=retry_after)
            )
            return
        repeated, burst = decisions[1:]
        verdict = message_verdict(
            text=sending.text, honeypot=sending.honeypot, repeated=repeated, burst=burst
        )
        try:
            outcome = await self._store(sending, verdict)
        except ApiError as exc:
            await self._error(exc.code, exc.message)
            return
        except DATABASE_FAULTS:
            await self.send_json(
                error_frame(
                    "unavailable",
                    NOT_SENT_YET,
                    client_id=client_id,
                    retry_after=RETRY_AFTER_SECONDS,
                )
            )
            raise
        if outcome.received is None:
            await self.send_json(error_frame("rate_limited", LOOKS_LIKE_SPAM, client_id=client_id))
            if outcome.refusal == "blocked":
                await self._close(CLOSE_FORBIDDEN)
            return
        await self._acknowledge(client_id, outcome.received)

    async def _store(self, sending: Sending, verdict: Verdict) -> MessageSending:
        """One hop: the verdict acted on (when it calls for it), else the message stored;
        on a fresh connection if PostgreSQL dropped the first (stored once by clientId)."""
        return await in_db_thread(retried_on_drop(visitor_message_send))(
            agent=self.agent,
            party=self.party,
            workspace_id=self.workspace_id,
            ip=self.ip,
            verdict=verdict,
            client_id=sending.client_id,
            text=sending.text,
            origin=self.session.origin,
            page_url=self.session.page_url,
        )

    async def _acknowledge(self, client_id: str, received: Received) -> None:
        message = received.message
        shown = message_out(message)
        if received.created:
            prometheus.websocket_message_acked()
        await self.send_json(
            ack_frame(
                client_id=client_id, message_id=message.public_id, created_at=shown["createdAt"]
            )
        )
        if received.created:
            await self.send_json({"type": "message", **shown})  # this tab's copy, as others get
            await self._followup(message)

    async def _followup(self, message: Message) -> None:
        """After the ack (the message is stored): the visitor's other tabs and the inbox,
        then the handoff rules or the reply (conversations.services.message_followup's
        order). This socket's next frame waits, so its messages go out in order."""
        try:
            await broadcast.abroadcast_visitor_message(message, sender=self.channel_name)
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
        await self.send_json(error_frame(code, message))

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
