"""Verifying who a customer is: a JWT from the site's backend, or an HMAC of their id.

Every refusal is an `InvalidCustomerToken` whose message says why (an integrator needs to
know "expired" from "wrong secret"), and is logged with the detail. Nothing here trusts
the token before its signature is checked against one of the agent's live keys, and the
algorithm comes from the key, never from the token: `none` and HS/RS confusion cannot work.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.errors import InvalidCustomerToken, InvalidRequest
from customers.keys import KeyMaterial, key_material, live_keys
from customers.models import IdentityKey
from security.sealing import SealBroken

logger = logging.getLogger("customeragent.security")

ALGORITHMS = frozenset(IdentityKey.Algorithm.values)
MAX_TOKEN_CHARS = 8192
MAX_ID_CHARS = 255
MAX_NAME_CHARS = 200
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY = 100
MAX_ATTRIBUTE_VALUE = 1000
RETIRED_KEYS_CHECKED = 5
SIGNED_IN_ONLY = "This chat is for signed-in customers"


def identity_satisfied(*, required: bool, verified: bool) -> bool:
    """The agent's identity rule, for sessions, refreshes, history and sockets alike: an
    agent that requires identity serves verified customers only."""
    return verified or not required


@dataclass(frozen=True)
class Identity:
    """Who the page says (claimed) or proves (verified) the customer is."""

    external_id: str
    verified: bool
    email: str = ""
    name: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    method: Literal["token", "hmac", "claim"] = "claim"
    key_id: str = ""
    # A token's exp: sessions it verifies end with it.
    expires_at: datetime | None = None


class TokenRefused(Exception):
    """Why a token fails: a stable `reason` code and a sentence for the integrator."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _refuse(reason: str, message: str) -> TokenRefused:
    return TokenRefused(reason, message)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


# ---- claims ---------------------------------------------------------------------------


def _clean_id(value: object, *, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
        raise ValueError(f"{what} must be a non-empty string of at most {MAX_ID_CHARS} characters")
    return value.strip()


def _clean_email(value: object) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > 254:
        raise ValueError("email must be an email address")
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError("email must be an email address") from None
    return value.strip().lower()


def _clean_name(value: object) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > MAX_NAME_CHARS:
        raise ValueError(f"name must be a string of at most {MAX_NAME_CHARS} characters")
    return value.strip()


def attributes_clean(value: object) -> dict[str, Any]:
    """A flat object of at most 50 scalar values: what a site knows, not a document store."""
    if value in (None, {}):
        return {}
    if not isinstance(value, dict) or len(value) > MAX_ATTRIBUTES:
        raise ValueError(f"attributes must be an object of at most {MAX_ATTRIBUTES} entries")
    clean: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > MAX_ATTRIBUTE_KEY:
            raise ValueError(f"attribute names must be 1-{MAX_ATTRIBUTE_KEY} characters")
        if isinstance(item, str):
            if len(item) > MAX_ATTRIBUTE_VALUE:
                raise ValueError(f"attribute {key!r} is longer than {MAX_ATTRIBUTE_VALUE}")
        elif item is not None and not isinstance(item, bool | int | float):
            raise ValueError(f"attribute {key!r} must be a string, number, boolean or null")
        clean[key] = item
    return clean


def claimed_identity(customer: object) -> Identity | None:
    """The page's own `customer: {id, email, name, customAttributes}`: unverified claims."""
    if customer is None:
        return None
    if not isinstance(customer, dict):
        raise InvalidRequest("'customer' must be an object with an 'id'.")
    try:
        return Identity(
            external_id=_clean_id(customer.get("id"), what="customer.id"),
            verified=False,
            email=_clean_email(customer.get("email")),
            name=_clean_name(customer.get("name")),
            attributes=attributes_clean(customer.get("customAttributes")),
        )
    except ValueError as exc:
        raise InvalidRequest(f"'customer' is not valid: {exc}.") from None


# ---- the token --------------------------------------------------------------------------


def _header(token: object) -> dict[str, Any]:
    if not isinstance(token, str) or not token:
        raise _refuse("malformed", "customerToken must be a non-empty string.")
    if len(token) > MAX_TOKEN_CHARS:
        raise _refuse("too_large", f"customerToken is longer than {MAX_TOKEN_CHARS} characters.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _refuse(
            "malformed", "customerToken is not a JWT (header.payload.signature)."
        ) from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise _refuse(
            "algorithm_not_allowed",
            f"alg {str(alg)[:20]!r} is not accepted; sign with HS256, RS256 or ES256.",
        )
    return header


def _decode(token: str, key: KeyMaterial, *, agent_public_id: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm],  # the key's own algorithm, whatever the header says
            leeway=settings.IDENTITY_TOKEN_LEEWAY_SECONDS,
            options={"require": ["sub", "exp"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise _refuse("expired", "customerToken has expired (exp is in the past).") from None
    except jwt.ImmatureSignatureError:
        raise _refuse(
            "not_yet_valid", "customerToken is not valid yet (nbf or iat in the future)."
        ) from None
    except jwt.MissingRequiredClaimError as exc:
        raise _refuse("missing_claim", f"customerToken has no {exc.claim!r} claim.") from None
    except jwt.InvalidSignatureError:
        raise  # try the next key
    except jwt.PyJWTError as exc:
        raise _refuse(
            "invalid_claim", f"customerToken is not valid: {str(exc).rstrip('.')}."
        ) from None
    return dict(claims)


def _check_claims(claims: dict[str, Any], *, agent_public_id: str, now: datetime) -> None:
    cap = settings.IDENTITY_TOKEN_MAX_LIFETIME_SECONDS
    leeway = settings.IDENTITY_TOKEN_LEEWAY_SECONDS
    exp = claims["exp"]
    iat = claims.get("iat")
    for name, value in (("exp", exp), ("iat", iat)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _refuse("invalid_claim", f"customerToken is not valid: {name} must be a number.")
    if exp - now.timestamp() > cap + leeway or (
        isinstance(iat, int | float) and exp - iat > cap + leeway
    ):
        raise _refuse(
            "lifetime_too_long",
            f"customerToken lives longer than the {cap // 3600} h this platform accepts; "
            "issue short-lived tokens (exp at most that far after iat).",
        )
    if "aud" in claims:
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        expected = agent_public_id.encode()
        if not any(
            isinstance(aud, str) and hmac.compare_digest(aud.encode(), expected)
            for aud in audiences
        ):
            raise _refuse("wrong_audience", "customerToken's aud is not this agent's id.")


def _identity_from(claims: dict[str, Any], *, key_id: str) -> Identity:
    try:
        return Identity(
            external_id=_clean_id(claims["sub"], what="sub"),
            verified=True,
            email=_clean_email(claims.get("email")),
            name=_clean_name(claims.get("name")),
            attributes=attributes_clean(claims.get("attributes")),
            method="token",
            key_id=key_id,
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except ValueError as exc:
        raise _refuse("invalid_claim", f"customerToken is not valid: {exc}.") from None


def _token_identity(
    token: object, *, agent_pk: int, agent_public_id: str, now: datetime | None
) -> Identity:
    moment = _now(now)
    header = _header(token)
    assert isinstance(token, str)
    alg = header["alg"]
    keys = _materials(live_keys(agent_pk, now=moment).filter(algorithm=alg))
    kid = header.get("kid")
    if isinstance(kid, str) and any(k.key_id == kid for k in keys):
        keys = [k for k in keys if k.key_id == kid]
    if not keys:
        raise _refuse("no_key", f"This agent has no live {alg} key to check customerToken with.")
    for key in keys:
        try:
            claims = _decode(token, key, agent_public_id=agent_public_id)
        except jwt.InvalidSignatureError:
            continue
        _check_claims(claims, agent_public_id=agent_public_id, now=moment)
        return _identity_from(claims, key_id=key.key_id)
    if _signed_by_retired_key(token, alg=alg, agent_pk=agent_pk, now=moment):
        raise _refuse(
            "key_retired", "customerToken is signed with a key whose grace period is over."
        )
    raise _refuse("bad_signature", "customerToken's signature matches none of this agent's keys.")


def _materials(keys: Iterable[IdentityKey]) -> list[KeyMaterial]:
    """The usable keys; one sealed under a SECRET_KEY we no longer have is skipped, loudly."""
    usable = []
    for key in keys:
        try:
            usable.append(key_material(key))
        except SealBroken:
            logger.error("identity key %s cannot be unsealed: SECRET_KEY changed?", key.key_id)
    return usable


def _signed_by_retired_key(token: str, *, alg: str, agent_pk: int, now: datetime) -> bool:
    retired = IdentityKey.objects.filter(
        agent_id=agent_pk, algorithm=alg, retires_at__lte=now
    ).order_by("-retires_at")[:RETIRED_KEYS_CHECKED]
    for material in _materials(retired):
        try:
            jwt.decode(
                token,
                material.key,
                algorithms=[alg],
                options={"verify_exp": False, "verify_aud": False},
            )
        except jwt.PyJWTError:
            continue
        return True
    return False


def _hmac_identity(
    customer: object, user_hash: object, *, agent_pk: int, now: datetime | None
) -> Identity:
    claimed = claimed_identity(customer)
    if claimed is None:
        raise _refuse("missing_claim", "userHash needs customer.id, the id it was computed from.")
    if not isinstance(user_hash, str) or len(user_hash) != 64:
        raise _refuse("malformed", "userHash must be the 64 hex digits of HMAC-SHA256.")
    presented = user_hash.lower().encode()
    keys = _materials(live_keys(agent_pk, now=_now(now)).filter(algorithm="HS256"))
    if not keys:
        raise _refuse("no_key", "This agent has no identity secret to check userHash with.")
    # Every key is compared (no early exit), in constant time.
    matches = [
        hmac.compare_digest(
            hmac.new(k.key.encode(), claimed.external_id.encode(), hashlib.sha256)
            .hexdigest()
            .encode(),
            presented,
        )
        for k in keys
    ]
    if not any(matches):
        raise _refuse(
            "bad_signature", "userHash does not match customer.id under this agent's secret."
        )
    key_id = keys[matches.index(True)].key_id
    return Identity(
        external_id=claimed.external_id,
        verified=True,
        email=claimed.email,
        name=claimed.name,
        attributes=claimed.attributes,
        method="hmac",
        key_id=key_id,
    )


def identity_verify(
    *,
    agent_pk: int,
    agent_public_id: str,
    customer_token: object = None,
    user_hash: object = None,
    customer: object = None,
    now: datetime | None = None,
) -> Identity | None:
    """Who the request proves or claims the customer is; None for an anonymous visitor.

    Raises InvalidCustomerToken (401) for a token or hash that fails, InvalidRequest for
    malformed `customer` claims.
    """
    try:
        if customer_token not in (None, ""):
            return _token_identity(
                customer_token, agent_pk=agent_pk, agent_public_id=agent_public_id, now=now
            )
        if user_hash not in (None, ""):
            return _hmac_identity(customer, user_hash, agent_pk=agent_pk, now=now)
    except TokenRefused as exc:
        logger.warning(
            "customer identity refused for %s: %s (%s)", agent_public_id, exc.reason, exc.message
        )
        raise InvalidCustomerToken(exc.message) from None
    return claimed_identity(customer)


def token_diagnose(
    token: str, *, agent_pk: int, agent_public_id: str, now: datetime | None = None
) -> tuple[Identity | None, TokenRefused | None]:
    """For the admin's "test a token" box: the identity, or exactly why it is refused."""
    try:
        return _token_identity(
            token.strip(), agent_pk=agent_pk, agent_public_id=agent_public_id, now=now
        ), None
    except TokenRefused as exc:
        return None, exc
