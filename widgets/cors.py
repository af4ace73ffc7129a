"""Per-agent CORS for the public widget API (a django-cors-headers receiver).

A preflight carries neither body nor token, so it is allowed when any active agent
allows the origin; the real request is then judged against its own agent — from the
bearer token, the `token` field or the `agentId` field — and a response for an origin
that agent does not allow carries no CORS headers at all.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from customers.sessions import refresh_token_agent, session_token_verify
from security.domains import origin_allowed
from security.errors import InvalidSessionToken
from security.untrusted_json import UntrustedJsonError, untrusted_json_loads
from widgets.selectors import allowed_domains_for, any_agent_allows

MAX_PEEK_BYTES = 64 * 1024


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
    if not request.path.startswith("/api/v2/widget/") or not origin:
        return False
    if request.method == "OPTIONS":
        return any_agent_allows(origin)
    agent_id = _agent_id_of(request)
    if agent_id is None:
        return False
    domains = allowed_domains_for(agent_id)
    return domains is not None and origin_allowed(origin, domains)
