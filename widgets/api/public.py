"""The base of every public widget endpoint: origin, token, IP blocks and rate limits.

The hot endpoints (session, refresh) make all their checks in one Redis round trip through
`gate()` (widgets.delivery.snapshots.widget_gate) and then refuse in the usual order with
`refuse_blocked` and `refuse_limited`; the others call `refuse_blocked_ip` and `throttle`.
"""

from __future__ import annotations

import logging
from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from core.errors import InvalidSessionToken, IpBlocked, OriginNotAllowed, RateLimited
from customers.sessions import WidgetSession, session_token_verify
from security.blocks import ip_block_for
from security.client_ip import request_client_ip
from security.limits import limit_for
from security.ratelimit import rate_limit_hit
from widgets.delivery.cors import cors_agent_judged
from widgets.delivery.snapshots import AsksFor, Gate, widget_gate

logger = logging.getLogger("customeragent.security")


class PublicWidgetView(APIView):
    """No cookies, no CSRF, no staff auth: these endpoints trust only what they check."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes: list[Any] = []

    def origin(self) -> str:
        return str(self.request.headers.get("Origin", ""))

    def client_ip(self) -> str:
        ip: str | None = getattr(self, "_client_ip", None)
        if ip is None:
            ip = self._client_ip = request_client_ip(self.request)
        return ip

    def refuse_blocked_ip(self, *, workspace_id: int | None = None) -> None:
        ip = self.client_ip()
        block = ip_block_for(ip, workspace_id=workspace_id)
        if block is not None:
            logger.warning("blocked %s (%s) on %s", ip, block.reason, self.request.path)
            raise IpBlocked()

    def gate(self, *, agent_id: str | None, asks_for: AsksFor) -> Gate:
        """The agent's snapshot, the IP blocks and the counted limits, in one round trip;
        the CORS check reuses the snapshot."""
        gate = widget_gate(agent_public_id=agent_id, asks_for=asks_for)
        if agent_id is not None:
            cors_agent_judged(self.request._request, gate.snapshot)
        return gate

    def refuse_blocked(self, gate: Gate, *, workspace_id: int | None = None) -> None:
        """403 ip_blocked when a platform-wide block, or one of this workspace, applies."""
        ip = self.client_ip()
        block = gate.blocks.match(ip, workspace_id=workspace_id)
        if block is not None:
            logger.warning("blocked %s (%s) on %s", ip, block.reason, self.request.path)
            raise IpBlocked()

    def refuse_limited(self, gate: Gate, index: int, name: str, key: str) -> None:
        """429 with Retry-After when the gate's limit number `index` refused the request."""
        decision = gate.checked.refusal(index)
        if decision is not None:
            logger.warning("rate limit %s hit by %s on %s", name, key, self.request.path)
            raise RateLimited(headers={"Retry-After": str(decision.retry_after)})

    def throttle(self, name: str, key: str, overrides: dict[str, int] | None = None) -> None:
        """Count this request under limit `name` for `key`; 429 with Retry-After when over."""
        decision = rate_limit_hit(limit_for(name, overrides), key)
        if not decision.allowed:
            logger.warning("rate limit %s hit by %s on %s", name, key, self.request.path)
            raise RateLimited(headers={"Retry-After": str(decision.retry_after)})

    def bearer_session(self) -> WidgetSession:
        """The request's session token, which must have been issued to this origin."""
        auth = self.request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise InvalidSessionToken("Send the session token as 'Authorization: Bearer <token>'.")
        session = session_token_verify(auth[7:])
        if self.origin() != session.origin:
            raise OriginNotAllowed("This session token was issued to another website.")
        return session
