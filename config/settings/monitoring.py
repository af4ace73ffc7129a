"""Monitoring and alerts (docs/monitoring.md): metrics access, worker heartbeat, e-mail."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from core.env import (
    env_bool,
    env_int,
    env_networks,
    env_str,
)

# --- Monitoring and alerts (docs/monitoring.md) ---------------------------------------
# /metrics answers these client addresses (after TRUSTED_PROXIES) or the bearer token.
METRICS_ALLOWED_IPS = env_networks("METRICS_ALLOWED_IPS") or ["127.0.0.0/8", "::1/128"]
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters long")
# Read by prometheus_client itself (several processes share their metrics through it).
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"Unexpected value PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR!r}, "
        "use an existing directory"
    )
# /readyz reports the worker stale when its heartbeat (every 30 s) is older than this.
WORKER_STALE_MINUTES = env_int("WORKER_STALE_MINUTES", 5, minimum=1)
# Alert webhooks never reach private or loopback addresses unless this is on (tests, dev).
ALERT_WEBHOOK_ALLOW_PRIVATE = env_bool("ALERT_WEBHOOK_ALLOW_PRIVATE", False)
# MCP servers are customer-typed URLs too: no private or reserved addresses unless this is
# set (`make run` sets it for the demo store on 127.0.0.1; see
# agents.integrations.mcp.mcp_url_check).
MCP_ALLOW_PRIVATE_URLS = env_bool("MCP_ALLOW_PRIVATE_URLS", False)
ALERT_WEBHOOK_TIMEOUT_SECONDS = env_int("ALERT_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set at most one of EMAIL_USE_TLS and EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CustomerAgent <alerts@localhost>")
