"""Widget session tokens: short-lived, signed, bound to agent, visitor and origin.

They travel only in headers and the websocket subprotocol, never in URLs.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.utils.crypto import salted_hmac

from core.errors import InvalidRefreshToken, InvalidSessionToken, OriginNotAllowed
from customers.visitors import ProvenVisitorId
from security.ratelimit import OneTimeUse, Spend, rate_limits_checked

logger = logging.getLogger(__name__)

ISSUER = "customeragent"
ACCESS_TYPE = "widget.access"
REFRESH_TYPE = "widget.refresh"
ALGORITHM = "HS256"
# The page a session started on, shown to staff; capped so tokens stay small.
MAX_PAGE_URL = 500
MIN_IDENTITY_SESSION_SECONDS = 60


@dataclass(frozen=True)
class WidgetSession:
    agent_id: str
    visitor_id: ProvenVisitorId
    origin: str
    customer_id: int | None
    expires_at: datetime
    page_url: str = ""
    customer_verified: bool = False
    # A session verified by a customer token never outlives that token.
    identity_expires_at: datetime | None = None

    @property
    def owner_key(self) -> str:
        """Whose conversations this session reaches (conversation_owner_key)."""
        return conversation_owner_key(
            visitor_id=self.visitor_id,
            customer_id=self.customer_id,
            verified=self.customer_verified,
        )


def conversation_owner_key(
    *, visitor_id: str, customer_id: int | None, verified: bool = False
) -> str:
    """A verified customer's conversations follow them to every device; everyone else's,
    an identified (claimed) customer's too, stay with the browser (the visitor id) they
    started in. The one place this rule lives."""
    return f"c-{customer_id}" if verified and customer_id is not None else f"v-{visitor_id}"


@dataclass(frozen=True)
class IssuedSession:
    token: str
    refresh_token: str
    expires_at: datetime


def _signing_key(purpose: str) -> bytes:
    # A key derived per purpose, so a session token can never pass as anything else.
    return salted_hmac(f"customeragent.{purpose}", "signing-key", algorithm="sha256").digest()


def session_token_issue(
    *,
    agent_id: str,
    visitor_id: str,
    origin: str,
    customer_id: int | None = None,
    customer_verified: bool = False,
    identity_expires_at: datetime | None = None,
    family: str | None = None,
    page_url: str = "",
) -> IssuedSession:
    """A new access + refresh pair; `family` ties rotated refresh tokens together.

    With `identity_expires_at` (the customer token's exp) neither token outlives it.
    """
    now = datetime.now(UTC)
    # A token accepted within the clock-skew leeway must still give a usable session.
    ceiling = (
        max(identity_expires_at, now + timedelta(seconds=MIN_IDENTITY_SESSION_SECONDS))
        if identity_expires_at
        else datetime.max.replace(tzinfo=UTC)
    )
    expires_at = min(now + timedelta(seconds=settings.WIDGET_SESSION_TTL_SECONDS), ceiling)
    refresh_expires_at = min(now + timedelta(seconds=settings.WIDGET_REFRESH_TTL_SECONDS), ceiling)
    claims = {
        "iss": ISSUER,
        "typ": ACCESS_TYPE,
        "agt": agent_id,
        "vid": visitor_id,
        "org": origin,
        "cus": customer_id,
        "cvf": bool(customer_verified and customer_id is not None),
        "url": page_url[:MAX_PAGE_URL],
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    if identity_expires_at is not None:
        claims["iex"] = int(identity_expires_at.timestamp())
    refresh_claims = {
        **claims,
        "typ": REFRESH_TYPE,
        "jti": secrets.token_urlsafe(16),
        "fam": family or secrets.token_urlsafe(16),
        "exp": int(refresh_expires_at.timestamp()),
    }
    return IssuedSession(
        token=jwt.encode(claims, _signing_key(ACCESS_TYPE), algorithm=ALGORITHM),
        refresh_token=jwt.encode(refresh_claims, _signing_key(REFRESH_TYPE), algorithm=ALGORITHM),
        expires_at=expires_at.replace(microsecond=0),
    )


def _verified_claims(token: str, token_type: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            _signing_key(token_type),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "agt", "vid", "org", "typ"]},
        )
    except jwt.PyJWTError as exc:
        logger.info("widget token refused: %s", exc)
        raise InvalidSessionToken() from None
    if claims.get("typ") != token_type:
        raise InvalidSessionToken()
    return dict(claims)


def _session_from(claims: dict[str, Any]) -> WidgetSession:
    customer_id = claims.get("cus")
    return WidgetSession(
        agent_id=str(claims["agt"]),
        # We signed it for a browser that had proved it (customers.visitors).
        visitor_id=ProvenVisitorId(str(claims["vid"])),
        origin=str(claims["org"]),
        customer_id=int(customer_id) if isinstance(customer_id, int) else None,
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        page_url=str(claims.get("url") or ""),
        customer_verified=claims.get("cvf") is True and isinstance(customer_id, int),
        identity_expires_at=datetime.fromtimestamp(claims["iex"], UTC)
        if isinstance(claims.get("iex"), int)
        else None,
    )


def session_token_verify(token: str) -> WidgetSession:
    """The session a token proves, or InvalidSessionToken (bad signature, expired, wrong type)."""
    if not token or len(token) > 4096:
        raise InvalidSessionToken()
    return _session_from(_verified_claims(token, ACCESS_TYPE))


def refresh_token_agent(refresh_token: str) -> str | None:
    """The agent a (validly signed, unexpired) refresh token belongs to; nothing is spent."""
    try:
        return str(_verified_claims(refresh_token[:4096], REFRESH_TYPE)["agt"])
    except InvalidSessionToken:
        return None


@dataclass(frozen=True)
class RefreshClaims:
    """A validly signed, unexpired refresh token, not yet spent."""

    session: WidgetSession
    token_id: str
    family: str

    def one_time_use(self) -> OneTimeUse:
        """How it is spent: once; a second use revokes every token of its family."""
        return OneTimeUse(
            token_id=self.token_id, family=self.family, ttl=settings.WIDGET_REFRESH_TTL_SECONDS
        )


def refresh_token_read(refresh_token: str) -> RefreshClaims | None:
    """What a refresh token says, if we signed it and it is unexpired (nothing is spent)."""
    if not refresh_token or len(refresh_token) > 4096:
        return None
    try:
        claims = _verified_claims(refresh_token, REFRESH_TYPE)
    except InvalidSessionToken:
        return None
    jti, family = str(claims.get("jti", "")), str(claims.get("fam", ""))
    if not jti or not family:
        return None
    return RefreshClaims(session=_session_from(claims), token_id=jti, family=family)


def refresh_spent_check(claims: RefreshClaims, spend: Spend) -> None:
    """Refuse a refresh token that was not spent just now (its family is revoked, or it
    was spent before: then the whole family is revoked from now on)."""
    if spend is Spend.SPENT:
        return
    if spend is Spend.REUSED:
        logger.warning("spent widget refresh token reused; family %s revoked", claims.family)
        raise InvalidRefreshToken("This refresh token was already used; sign in again.")
    raise InvalidRefreshToken()


def session_reissue(claims: RefreshClaims) -> IssuedSession:
    """The new pair for a refresh token just spent: same session, same family."""
    session = claims.session
    return session_token_issue(
        agent_id=session.agent_id,
        visitor_id=session.visitor_id,
        origin=session.origin,
        customer_id=session.customer_id,
        customer_verified=session.customer_verified,
        identity_expires_at=session.identity_expires_at,
        family=claims.family,
        page_url=session.page_url,
    )


def session_refresh(refresh_token: str, *, origin: str) -> tuple[WidgetSession, IssuedSession]:
    """Spend a refresh token for a new pair. Reusing a spent one revokes its whole family.

    A token presented from another origin than its own is refused before it is spent.
    (The widget's refresh endpoint spends it in its one round trip instead:
    conversations.api.widget_session.)
    """
    claims = refresh_token_read(refresh_token)
    if claims is None:
        raise InvalidRefreshToken()
    if origin != claims.session.origin:
        raise OriginNotAllowed("This session was issued to another website.")
    checked = rate_limits_checked(stamps=(), once=claims.one_time_use())
    refresh_spent_check(claims, checked.spend)
    return claims.session, session_reissue(claims)
