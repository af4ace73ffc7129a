"""The base of every public widget endpoint: origin, token, IP blocks and rate limits."""

from __future__ import annotations

import logging
from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from customers.sessions import WidgetSession, session_token_verify
from security.blocks import ip_block_for
from security.client_ip import request_client_ip
from security.errors import InvalidSessionToken, IpBlocked, OriginNotAllowed, RateLimited
from security.limits import limit_for
from security.ratelimit import rate_limit_hit

logger = logging.getLogger("customeragent.security")


class PublicWidgetView(APIView):
    """No cookies, no CSRF, no staff auth: these endpoints trust only what they check."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes: list[Any] = []

    def origin(self) -> str:
        return str(self.request.headers.get("Origin", ""))

    def client_ip(self) -> str:
        return request_client_ip(self.request)

    def refuse_blocked_ip(self, *, workspace_id: int | None = None) -> None:
        ip = self.client_ip()
        block = ip_block_for(ip, workspace_id=workspace_id)
        if block is not None:
            logger.warning("blocked %s (%s) on %s", ip, block.reason, self.request.path)
            raise IpBlocked()

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
