"""A pytest plugin, loaded before Django, that gives each test run its own services.

The PostgreSQL and Redis servers are shared by everything on the machine, so a run
gets its own database name and its own Redis database number (claimed with a lock key,
flushed and released at the end). Under `CI=true` an unreachable service fails the run
rather than letting tests fall back or skip.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import pytest

LOCK_KEY = "customeragent:test-run-lock"
# (redis url of the claimed database, url holding its lock, lock key, lock token)
_claimed: tuple[str, str, str, str] | None = None

os.environ.setdefault("SECRET_KEY", "test-" + secrets.token_urlsafe(48))
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The demo app: its own tests, and the demo site as the customer site of the browser tests.
os.environ.setdefault("DEMO_APP", "true")

if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    os.environ.setdefault(
        "DATABASE_TEST_NAME", f"test_customeragent_{os.getpid()}_{secrets.token_hex(3)}"
    )


def _claim_redis_db(base_url: str) -> tuple[str, str, str, str]:
    """Claim a Redis database (1-15) for this run.

    The locks live in the base URL's database, not in the claimed one: tests flush their
    database (the cache's clear() is FLUSHDB), which would drop a lock kept there and let
    the next run claim the same database and flush it under this one's feet.
    """
    import redis

    parts = urlsplit(base_url)
    token = secrets.token_hex(8)
    client = redis.Redis.from_url(base_url, socket_connect_timeout=3)
    try:
        own = int(parts.path.strip("/") or 0)
        for number in (n for n in range(1, 16) if n != own):
            key = f"{LOCK_KEY}:{number}"
            if client.set(key, token, nx=True, ex=3600):
                url = urlunsplit((parts.scheme, parts.netloc, f"/{number}", parts.query, ""))
                return url, base_url, key, token
    finally:
        client.close()
    raise RuntimeError("No free Redis database (1-15) for this test run")


if os.environ.get("REDIS_URL"):
    try:
        _claimed = _claim_redis_db(os.environ["REDIS_URL"])
    except Exception as exc:  # a run against services must not silently fall back
        raise pytest.UsageError(f"REDIS_URL is set but Redis is unusable: {exc}") from exc
    os.environ["REDIS_URL"] = _claimed[0]
    os.environ["REDIS_KEY_PREFIX"] = f"ca-test-{os.getpid()}"


def pytest_report_header() -> list[str]:
    database = os.environ.get("DATABASE_TEST_NAME") or "SQLite (embedded)"
    redis_url = _claimed[0] if _claimed else "in-memory layer, local-memory cache, eager Celery"
    return [f"customeragent services: database={database} redis={redis_url}"]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _claimed is None:
        return
    import redis

    url, lock_url, key, token = _claimed
    locks = redis.Redis.from_url(lock_url)
    try:
        if locks.get(key) == token.encode():
            claimed = redis.Redis.from_url(url)
            claimed.flushdb()
            claimed.close()
            locks.delete(key)
    finally:
        locks.close()
