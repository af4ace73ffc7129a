"""What the public widget endpoints answer (conversations.api.widget_session and .widget),
for the OpenAPI schema.

The shapes are the services' own types (PublicConfig, MessageOut, CustomerOut), so the
schema and the code cannot drift apart unnoticed; the errors are each endpoint's own.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from conversations.identity import CustomerOut
from conversations.selectors import MessageOut
from core.openapi import error_responses, typed_dict_schema
from widgets.selectors import PublicConfig


class WidgetConversation(TypedDict):
    id: str
    status: str
    messages: list[MessageOut]
    hasMore: bool


class WidgetSession(TypedDict):
    token: str
    refreshToken: str
    expiresAt: str  # ISO 8601, UTC
    visitorId: str
    # Only from POST /session, where the browser proved (or was just given) its visitor.
    visitorSecret: NotRequired[str]
    config: PublicConfig
    variants: dict[str, str]  # {experiment key: variant key}
    customer: CustomerOut | None
    conversation: WidgetConversation | None


class WidgetHistory(TypedDict):
    messages: list[MessageOut]
    hasMore: bool


SESSION: dict[int, Any] = {
    200: typed_dict_schema(WidgetSession),
    **error_responses(
        400,
        401,
        403,
        413,
        429,
        e401="invalid_customer_token, invalid_token or invalid_refresh_token",
        e403="origin_not_allowed or ip_blocked",
    ),
}
SESSION_START: dict[int, Any] = {
    **SESSION,
    **error_responses(404, e404="agent_not_found"),
}
HISTORY: dict[int, Any] = {
    200: typed_dict_schema(WidgetHistory),
    **error_responses(
        400,
        401,
        403,
        404,
        429,
        e401="invalid_token or invalid_customer_token",
        e403="origin_not_allowed or ip_blocked",
        e404="not_found: no such conversation of this visitor",
    ),
}
