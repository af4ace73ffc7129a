"""Per-agent CORS for the public widget API (a django-cors-headers receiver).

A preflight carries neither body nor token, so it is allowed when any active agent
allows the origin; the real request is then judged against its own agent — from the
bearer token, the `token` field or the `agentId` field — and a response for an origin
that agent does not allow carries no CORS headers at all.

django-cors-headers asks after the view has run. A view that already looked up its agent
leaves that snapshot on the request (`cors_agent_judged`), and the answer is read from it:
the same lookup, no second one.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from core.errors import InvalidSessionToken
from customers.sessions import refresh_token_agent, session_token_verify
from security.domains import origin_allowed
from security.untrusted_json import UntrustedJsonError, untrusted_json_loads
from widgets.delivery.snapshots import ALL_PATTERNS_KEY, WidgetSnapshot, widget_snapshot
from widgets.models import WidgetConfig

MAX_PEEK_BYTES = 64 * 1024
JUDGED_ATTRIBUTE = "_widget_cors_snapshot"
ALLOWED_CACHE_SECONDS = 300


def cors_agent_judged(request: HttpRequest, snapshot: WidgetSnapshot | None) -> None:
    """Record the agent whose answer this request gets (None: no active agent), so the
    CORS check reads that snapshot instead of looking the agent up again."""
    setattr(request, JUDGED_ATTRIBUTE, (snapshot,))


def _agent_id_of(request: HttpRequest) -> str | None:
    auth = request.headers.get("Authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else ""
    body: Any = None
    size = request.META.get("CONTENT_LENGTH") or "0"
    if not token and request.method == "POST" and size.isdigit() and int(size) <= MAX_PEEK_BYTES:
        try:
            body = untrusted_json_loads(request.body or b"null")
        except UntrustedJsonError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("token"), str):
            token = body["token"]
        if isinstance(body, dict) and isinstance(body.get("refreshToken"), str):
            return refresh_token_agent(body["refreshToken"])
    if token:
        try:
            return session_token_verify(token).agent_id
        except InvalidSessionToken:
            return None
    if isinstance(body, dict) and isinstance(body.get("agentId"), str):
        return str(body["agentId"])
    return None


def cors_allow_widget_origin(sender: object, request: HttpRequest, **kwargs: Any) -> bool:
    origin = request.headers.get("Origin", "")
    # CORS_URLS_REGEX: the widget API, but not its public page config (`*`, set by its view).
    if not re.match(settings.CORS_URLS_REGEX, request.path) or not origin:
        return False
    if request.method == "OPTIONS":
        return any_agent_allows(origin)
    judged: tuple[WidgetSnapshot | None] | None = getattr(request, JUDGED_ATTRIBUTE, None)
    if judged is not None:
        snapshot = judged[0]
    else:
        agent_id = _agent_id_of(request)
        snapshot = widget_snapshot(agent_id) if agent_id is not None else None
    return snapshot is not None and snapshot.allows(origin)


def any_agent_allows(origin: str) -> bool:
    """Whether some active agent allows `origin` (the answer to a CORS preflight)."""
    patterns: list[str] | None = cache.get(ALL_PATTERNS_KEY)
    if patterns is None:
        patterns = sorted(
            {
                entry
                for domains in WidgetConfig.objects.filter(agent__is_active=True).values_list(
                    "allowed_domains", flat=True
                )
                for entry in domains
            }
        )
        cache.set(ALL_PATTERNS_KEY, patterns, ALLOWED_CACHE_SECONDS)
    return origin_allowed(origin, patterns)
