"""The widget socket's frames (docs/widget-api.md): the one a visitor sends a message
with, checked, and the ones the server answers it with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conversations.realtime.protocol import CLIENT_ID_MAX_CHARS, MESSAGE_MAX_CHARS

TOO_FAST = "You are sending messages too fast; wait a moment."
LOOKS_LIKE_SPAM = "This message looks like spam and was not sent."
NOT_SENT_YET = "Your message is not sent yet; it will go when the chat reconnects."


@dataclass(frozen=True)
class Sending:
    """A `message.send` frame's fields, checked."""

    client_id: str
    text: str
    honeypot: str | None


def sending_parse(content: Any) -> Sending | str | None:
    """A message.send frame's fields, why they are invalid, or None for another frame."""
    if content.get("type") != "message.send":
        return None
    client_id, text = content.get("clientId"), content.get("text")
    if not isinstance(client_id, str) or not 0 < len(client_id) <= CLIENT_ID_MAX_CHARS:
        return f"clientId must be a string of 1-{CLIENT_ID_MAX_CHARS} characters."
    if not isinstance(text, str) or not text.strip() or len(text) > MESSAGE_MAX_CHARS:
        return f"text must be 1-{MESSAGE_MAX_CHARS} characters."
    honeypot = content.get("hp")
    return Sending(client_id, text, honeypot if isinstance(honeypot, str) else None)


def error_frame(
    code: str, message: str, *, client_id: str | None = None, retry_after: int | None = None
) -> dict[str, Any]:
    """An `error` frame; about one message (its `clientId`) when it refuses one."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id is not None:
        frame["clientId"] = client_id
    if retry_after is not None:
        frame["retryAfter"] = retry_after
    return frame


def ack_frame(*, client_id: str, message_id: str, created_at: str) -> dict[str, Any]:
    """`message.ack`: the message is stored under this id (sent again for a retry)."""
    return {"type": "message.ack", "clientId": client_id, "id": message_id, "createdAt": created_at}
