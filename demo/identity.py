"""What a site's backend does to prove who its signed-in customer is: sign a customerToken.

This is the demo customer site's code, not the platform's: copy `customer_token_for` into
your own server. It needs PyJWT, the agent's id, and the agent's identity secret and key id
(shown to staff in the admin) from your server's configuration. Never send the secret to
the browser: the page only ever receives the signed token.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict

import jwt

TOKEN_LIFETIME_SECONDS = 3600  # short-lived: the page asks its server for a new one


class DemoCustomer(TypedDict):
    id: str
    email: str
    name: str
    attributes: dict[str, Any]


# The demo site's "user database": on a real site, the signed-in user from its session.
DEMO_CUSTOMERS: dict[str, DemoCustomer] = {
    "ana": {
        "id": "cust_ana",
        "email": "ana@example.com",
        "name": "Ana Souza",
        "attributes": {"plan": "pro"},
    },
    "ben": {
        "id": "cust_ben",
        "email": "ben@example.com",
        "name": "Ben Okafor",
        "attributes": {"plan": "free"},
    },
}


def customer_token_for(
    customer: DemoCustomer, secret: str, agent_id: str, *, key_id: str = ""
) -> str:
    """An HS256 customerToken for `customer`, valid for one hour and for this agent only."""
    now = int(time.time())
    claims = {
        "sub": customer["id"],  # your stable id for the customer, never their email
        "email": customer["email"],
        "name": customer["name"],
        "attributes": customer["attributes"],
        "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "aud": agent_id,  # a token made for one agent is refused by every other
    }
    # kid names the key, so verification needs no guessing while a rotated secret is in grace.
    headers = {"kid": key_id} if key_id else None
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers)
