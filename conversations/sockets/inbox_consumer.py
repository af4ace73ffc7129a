"""The staff inbox websocket (`/ws/inbox/`): authenticate, join, translate frames.

Authenticated by the admin's session cookie (the route is wrapped in Channels'
AuthMiddlewareStack). Refused with 4403 when the page is not the platform's own (a
foreign `Origin`: cross-site websocket hijacking), 4401 for an anonymous user and 4403
for one who is not active staff of at least one workspace. The consumer joins one group
per workspace of the user; rules live in `conversations.staff`, reads in
`conversations.inbox_selectors`. Frames are documented in docs/inbox.md.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from conversations import staff
from conversations.inbox_selectors import (
    conversation_detail,
    inbox_conversations,
    inbox_workspace_ids,
    person_out,
    staff_message_out,
)
from conversations.realtime.groups import inbox_group
from conversations.realtime.protocol import CLOSE_FORBIDDEN, CLOSE_RATE_LIMITED, CLOSE_UNAUTHORIZED
from conversations.sockets.base import ChatSocket
from conversations.sockets.connection import in_db_thread, scope_header
from core.errors import ApiError
from security.frames import FrameRefused, RefusalLog, frame_parse
from security.limits import limit_for
from security.ratelimit import arate_limit_hit
from security.same_origin import same_origin

logger = logging.getLogger(__name__)


class InboxConsumer(ChatSocket):
    forward_only_events = frozenset(
        {"inbox.message", "inbox.batch", "inbox.conversation", "inbox.typing"}
    )
    user: Any
    groups_joined: list[str]
    refusals: RefusalLog
    closing: bool = False  # closed by us: frames still queued are not read

    async def connect(self) -> None:
        self.groups_joined = []
        # Accept first so the close code reaches the browser (a refused handshake has none).
        await self.accept()
        if not same_origin(scope_header(self.scope, b"origin"), scope_header(self.scope, b"host")):
            logger.warning(
                "inbox socket refused: foreign origin %r", scope_header(self.scope, b"origin")
            )
            await self.close(code=CLOSE_FORBIDDEN)
            return
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        if not (user.is_active and user.is_staff):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        workspaces = await in_db_thread(inbox_workspace_ids)(user)
        if not workspaces:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.refusals = RefusalLog(logger, f"inbox socket of user {user.pk}")
        for workspace_id in workspaces:
            group = inbox_group(workspace_id)
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        conversations = await in_db_thread(inbox_conversations)(user=user)
        await self.send_json(
            {"type": "inbox.ready", "user": person_out(user), "conversations": conversations}
        )

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "refusals"):
            self.refusals.summary()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not hasattr(self, "user") or self.closing:
            return
        # Every frame counts before anything is read from it (security.frames).
        decision = await arate_limit_hit(limit_for("frame_per_connection"), self.channel_name)
        if not decision.allowed:
            logger.warning("inbox frame flood from user %s; closing", self.user.pk)
            self.closing = True
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        content = frame_parse(text_data, bytes_data)
        if isinstance(content, FrameRefused):
            await self._error("invalid_frame", content.message, kind=content.kind)
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type")
        handler = self.COMMANDS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self._error("unknown_type", f"Unknown frame type {str(kind)[:40]!r}.")
            return
        ref = content.get("ref") if isinstance(content.get("ref"), str | int) else None
        try:
            reply = await handler(self, content)
        except ApiError as exc:
            await self._error(exc.code, exc.message, ref=ref, command=kind)
            return
        if reply is not None:
            await self.send_json({**reply, **({"ref": ref} if ref is not None else {})})

    # --- Commands: each calls one service and answers the sender ----------------------

    async def _open(self, content: dict[str, Any]) -> dict[str, Any]:
        detail = await in_db_thread(conversation_detail)(
            user=self.user, conversation_id=content.get("conversationId")
        )
        return {"type": "conversation.detail", **detail}

    async def _take(self, content: dict[str, Any]) -> dict[str, Any]:
        conversation = await in_db_thread(staff.conversation_take)(
            user=self.user,
            conversation_id=content.get("conversationId"),
            force=content.get("force") is True,
        )
        return {"type": "done", "command": "take", "conversationId": conversation.public_id}

    async def _release(self, content: dict[str, Any]) -> dict[str, Any]:
        conversation = await in_db_thread(staff.conversation_release)(
            user=self.user, conversation_id=content.get("conversationId")
        )
        return {"type": "done", "command": "release", "conversationId": conversation.public_id}

    async def _resolve(self, content: dict[str, Any]) -> dict[str, Any]:
        conversation = await in_db_thread(staff.conversation_resolve)(
            user=self.user, conversation_id=content.get("conversationId")
        )
        return {"type": "done", "command": "resolve", "conversationId": conversation.public_id}

    async def _reply(self, content: dict[str, Any]) -> dict[str, Any]:
        message = await in_db_thread(staff.staff_reply)(
            user=self.user,
            conversation_id=content.get("conversationId"),
            text=content.get("text"),
            client_id=content.get("clientId"),
        )
        return {"type": "done", "command": "reply", "message": staff_message_out(message)}

    async def _note(self, content: dict[str, Any]) -> dict[str, Any]:
        message = await in_db_thread(staff.staff_note)(
            user=self.user,
            conversation_id=content.get("conversationId"),
            text=content.get("text"),
            client_id=content.get("clientId"),
        )
        return {"type": "done", "command": "note", "message": staff_message_out(message)}

    async def _typing(self, content: dict[str, Any]) -> None:
        await in_db_thread(staff.staff_typing)(
            user=self.user,
            conversation_id=content.get("conversationId"),
            state=content.get("state") is True,
        )

    COMMANDS: dict[
        str, Callable[[InboxConsumer, dict[str, Any]], Awaitable[dict[str, Any] | None]]
    ] = {
        "open": _open,
        "take": _take,
        "release": _release,
        "resolve": _resolve,
        "reply": _reply,
        "note": _note,
        "typing": _typing,
    }

    async def _error(
        self, code: str, message: str, *, kind: str | None = None, **extra: Any
    ) -> None:
        self.refusals.note(kind or code, message)  # logged once per kind and connection
        extra = {k: v for k, v in extra.items() if v is not None}
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    # --- Channel-layer events (names map from "inbox.message" -> inbox_message) --------

    async def inbox_message(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "message",
                "conversationId": event["conversation"]["id"],
                "conversation": event["conversation"],
                "message": event["message"],
            }
        )

    async def inbox_batch(self, event: dict[str, Any]) -> None:
        """Visitor messages coalesced by a web process (conversations.realtime.inbox_feed): the same
        `message` frames, each with its conversation's latest summary."""
        for update in event["updates"]:
            conversation = update["conversation"]
            for message in update["messages"]:
                await self.send_json(
                    {
                        "type": "message",
                        "conversationId": conversation["id"],
                        "conversation": conversation,
                        "message": message,
                    }
                )

    async def inbox_conversation(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "conversation", "conversation": event["conversation"]})

    async def inbox_typing(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "typing",
                "conversationId": event["conversationId"],
                "role": event["role"],
                "state": event["state"],
            }
        )
