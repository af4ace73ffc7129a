"""The `CustomerAgent-Signature` header (the Stripe scheme): `t=<unix seconds>,v1=<hex
HMAC-SHA256(secret, "<t>.<raw body>")>`, one `v1` per live secret (two during a rotation).
Receivers check one signature matches and `t` is recent (docs/webhooks.md)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

HEADER = "CustomerAgent-Signature"
TOLERANCE_SECONDS = 300  # what docs/webhooks.md tells receivers to accept


def signature_of(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    """The header's value for `body` sent at `timestamp`, signed with each secret."""
    parts = [f"t={timestamp}"] + [f"v1={signature_of(s, timestamp, body)}" for s in secrets]
    return ",".join(parts)
