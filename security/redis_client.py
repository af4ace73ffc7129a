"""The Redis clients that rate limits, stamps and presence share (services mode).

Built once per process, thread-safe, on a bounded blocking pool of REDIS_MAX_CONNECTIONS:
under load a request waits up to REDIS_POOL_TIMEOUT seconds for a free connection instead
of failing with "Too many connections" (redis-py's default pool raises at 100).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

from django.conf import settings

SOCKET_TIMEOUT_SECONDS = 2.0

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def redis_sync_client() -> Any:
    """The process's client for `settings.REDIS_URL` (services mode only)."""
    url = str(settings.REDIS_URL)
    client = _clients.get(url)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(url)
        if client is None:
            import redis

            from core.redis_pools import fail_fast_options

            # A stalled Redis fails requests at once after the first timeout (503), rather
            # than each waiting SOCKET_TIMEOUT_SECONDS (core.redis_pools.FailFastConnection).
            pool = redis.BlockingConnectionPool.from_url(
                url,
                max_connections=settings.REDIS_MAX_CONNECTIONS,
                timeout=settings.REDIS_POOL_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT_SECONDS,
                **fail_fast_options(url),
            )
            client = _clients[url] = redis.Redis(connection_pool=pool)
    return client


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, Any]] = (
    weakref.WeakKeyDictionary()
)


def redis_async_client() -> Any:
    """The asyncio client of the running event loop (a client cannot cross loops; a web
    process has one) for rate limits and presence, on a blocking pool of
    REDIS_MAX_CONNECTIONS that makes a burst wait up to REDIS_POOL_TIMEOUT seconds."""
    loop = asyncio.get_running_loop()
    url = str(settings.REDIS_URL)
    entry = _async_clients.get(loop)
    if entry is None or entry[0] != url:
        import redis.asyncio as aredis

        pool = aredis.BlockingConnectionPool.from_url(
            url,
            max_connections=settings.REDIS_MAX_CONNECTIONS,
            timeout=settings.REDIS_POOL_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
        )
        entry = _async_clients[loop] = (url, aredis.Redis(connection_pool=pool))
    return entry[1]
