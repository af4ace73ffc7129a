"""The product's own knobs: abuse controls, the widget, customer identity."""

from __future__ import annotations

from core.env import (
    env_bool,
    env_int,
    env_ip_port,
    env_networks,
)

# --- Abuse controls ------------------------------------------------------------------
# Proxies whose X-Forwarded-For we believe (addresses or CIDRs); nobody else's.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)

# --- Widget ------------------------------------------------------------------------
WIDGET_SESSION_TTL_SECONDS = env_int("WIDGET_SESSION_TTL_SECONDS", 3600, minimum=60)
WIDGET_REFRESH_TTL_SECONDS = env_int("WIDGET_REFRESH_TTL_SECONDS", 86400, minimum=300)
WIDGET_MAX_BODY_BYTES = 16 * 1024
WIDGET_HISTORY_PAGE_SIZE = 50
# Where custom-domain TXT records are looked up (widgets.delivery.custom_domains): host[:port];
# empty uses the system's resolvers.
CUSTOM_DOMAIN_DNS_RESOLVER = env_ip_port("CUSTOM_DOMAIN_DNS_RESOLVER", default_port=53)

# --- Customer identity (customers.identity) ------------------------------------------
# Customer tokens living longer than this are refused, whatever their exp says.
IDENTITY_TOKEN_MAX_LIFETIME_SECONDS = env_int(
    "IDENTITY_TOKEN_MAX_LIFETIME_SECONDS", 86400, minimum=60
)
IDENTITY_TOKEN_LEEWAY_SECONDS = env_int("IDENTITY_TOKEN_LEEWAY_SECONDS", 30, minimum=0)
# How long a rotated-out identity secret keeps verifying (the admin can choose per rotation).
IDENTITY_ROTATION_GRACE_SECONDS = env_int("IDENTITY_ROTATION_GRACE_SECONDS", 86400, minimum=0)

# --- Outbound webhooks (webhooks, docs/webhooks.md) ----------------------------------
# Workspace-typed URLs: no private or loopback addresses unless this is on (tests, `make run`).
WEBHOOKS_ALLOW_PRIVATE_URLS = env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", False)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
