"""Rate limits: fixed windows counted atomically.

With Redis (services mode) each hit is one Lua script run — INCRBY, and PEXPIRE on the
first hit of a window — so concurrent requests can never all slip under the limit. The
embedded mode counts in process memory under a lock, which is exact for its one process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

_SCRIPT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local ttl = redis.call('PTTL', KEYS[1])
return {n, ttl}
"""


@dataclass(frozen=True)
class Limit:
    """At most `rate` hits per `window` seconds for one key of the limit `name`."""

    name: str
    rate: int
    window: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window resets (0 when allowed)


class _MemoryCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()

    def incr(self, key: str, cost: int, window: int) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            count, reset_at = self._windows.get(key, (0, now + window))
            if reset_at <= now:
                count, reset_at = 0, now + window
            count += cost
            self._windows[key] = (count, reset_at)
            if len(self._windows) > 50_000:  # forget expired windows now and then
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            return count, reset_at - now


_memory = _MemoryCounter()
ALLOWED = Decision(allowed=True, count=0, retry_after=0)
_clients: dict[str, Any] = {}


def _redis_key(limit: Limit, key: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:rl:{limit.name}:{key}"


def _decide(limit: Limit, count: int, ttl_seconds: float) -> Decision:
    allowed = count <= limit.rate
    return Decision(
        allowed=allowed, count=count, retry_after=0 if allowed else max(1, round(ttl_seconds + 0.5))
    )


def _sync_client() -> Any:
    client = _clients.get("sync")
    if client is None:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        _clients["sync"] = client.register_script(_SCRIPT)
    return _clients["sync"]


def _script_call(limit: Limit, key: str, cost: int) -> dict[str, list[Any]]:
    return {"keys": [_redis_key(limit, key)], "args": [cost, limit.window * 1000]}


def _from_script(limit: Limit, reply: Any) -> Decision:
    count, ttl_ms = reply
    return _decide(limit, int(count), max(int(ttl_ms), 0) / 1000)


def _in_memory(limit: Limit, key: str, cost: int) -> Decision:
    count, remaining = _memory.incr(f"{limit.name}:{key}", cost, limit.window)
    return _decide(limit, count, remaining)


def rate_limit_hit(limit: Limit, key: str, *, cost: int = 1) -> Decision:
    """Count one hit (or `cost`) for `key` under `limit` and say whether it is allowed."""
    if not settings.RATE_LIMITS_ENABLED:
        return ALLOWED
    if settings.REDIS_URL:
        return _from_script(limit, _sync_client()(**_script_call(limit, key, cost)))
    return _in_memory(limit, key, cost)


async def arate_limit_hit(limit: Limit, key: str, *, cost: int = 1) -> Decision:
    """`rate_limit_hit` for the event loop: Redis is asked without blocking it."""
    if not settings.RATE_LIMITS_ENABLED:
        return ALLOWED
    if settings.REDIS_URL:
        script = _async_script()
        return _from_script(limit, await script(**_script_call(limit, key, cost)))
    return _in_memory(limit, key, cost)


def _async_script() -> Any:
    """One asyncio Redis client per event loop (a client cannot cross loops)."""
    import asyncio

    loop_key = f"async:{id(asyncio.get_running_loop())}"
    script = _clients.get(loop_key)
    if script is None:
        import redis.asyncio as aredis

        client = aredis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        script = _clients[loop_key] = client.register_script(_SCRIPT)
    return script


def rate_limits_reset() -> None:
    """Forget every counted hit (tests, and an operator lifting limits at once)."""
    _memory.clear()
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:rl:*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
