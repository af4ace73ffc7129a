"""Redis connection pools that make load wait for a connection instead of failing.

redis-py's own pools hold at most 100 connections and raise `MaxConnectionsError` beyond
(redis-py 8), and Django's cache builds a pool per request context. Every Redis user in a
process goes through one bounded *blocking* pool per purpose instead: a caller finding all
`REDIS_MAX_CONNECTIONS` busy waits up to `REDIS_POOL_TIMEOUT` seconds for one to come back
(a connect storm queues for a millisecond or two), and Redis sees a known number of
connections per process (docs/operations.md).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer
from redis import BlockingConnectionPool, Connection
from redis.asyncio import BlockingConnectionPool as AsyncBlockingConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
# Redis down, restarting, stalled past a socket timeout, or every pooled connection busy for
# REDIS_POOL_TIMEOUT: likely to work a few seconds later (a 503, or a socket closed 1013).
REDIS_FAULTS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)
_lock = threading.Lock()
_pools: dict[tuple[str, tuple[tuple[str, str], ...]], BlockingConnectionPool] = {}


# After a Redis command failed or timed out, new commands to that server fail at once for
# this long instead of each waiting out its own socket timeout (see FailFastConnection).
BREAKER_SECONDS = 2.0


class _Breaker:
    """Per process and Redis server: when it last failed, and so until when not to wait."""

    def __init__(self) -> None:
        self.open_until: dict[tuple[str, int], float] = {}

    def check(self, server: tuple[str, int]) -> None:
        until = self.open_until.get(server)
        if until is not None and time.monotonic() < until:
            raise RedisConnectionError(
                f"Redis at {server[0]}:{server[1]} failed a moment ago; not waiting on it"
            )

    def trip(self, server: tuple[str, int]) -> None:
        self.open_until[server] = time.monotonic() + BREAKER_SECONDS


breaker = _Breaker()


class FailFastConnection(Connection):
    """The synchronous connections of the request path (cache, stamps, rate limits).

    A Redis that stalls (SIGSTOP, a full disk, a network partition) accepts connections and
    answers nothing: each request would wait out its socket timeout, holding one of the web
    process's few HTTP threads, and a burst would queue behind them for tens of seconds.
    The first failure opens the breaker instead: for BREAKER_SECONDS every new command fails
    at once (a 503 with Retry-After, core.exceptions), then the next one tries again.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.server = (str(self.host), int(self.port))  # checked on every command

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        breaker.check(self.server)
        try:
            super().send_command(*args, **kwargs)
        except REDIS_FAULTS:
            breaker.trip(self.server)
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)
        except REDIS_FAULTS:
            breaker.trip(self.server)
            raise


def fail_fast_options(url: str) -> dict[str, Any]:
    """Pool options for the request path's synchronous connections to `url`: plain
    `redis://` ones fail fast (rediss:// keeps redis-py's SSL connection)."""
    return {"connection_class": FailFastConnection} if url.startswith("redis://") else {}


class SharedBlockingConnectionPool(BlockingConnectionPool):
    """The Django cache's `pool_class`: one pool per process and URL, however many cache
    objects Django builds (one per request context under ASGI, each asking for a pool)."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Any:
        kwargs = {**fail_fast_options(url), **kwargs}
        key = (url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = super().from_url(url, **kwargs)
        return pool


# Per channel key: drop what has expired, then add the message unless the channel is full.
# KEYS: the channel keys. ARGV: their messages, their capacities, the time, the expiry.
_GROUP_SEND = """
local over_capacity = 0
local now = tonumber(ARGV[#ARGV - 1])
local expiry = tonumber(ARGV[#ARGV])
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, math.floor(now) - expiry)
  if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
    redis.call('ZADD', KEYS[i], now, ARGV[i])
    redis.call('EXPIRE', KEYS[i], expiry)
  else
    over_capacity = over_capacity + 1
  end
end
return over_capacity
"""


class RedisChannelLayer(_RedisChannelLayer):
    """channels_redis on a blocking pool per host and event loop, with a cheaper group send.

    A host entry is channels_redis's own (`address` plus connection options) and may also
    carry `max_connections` and `timeout` (how long a send, group change or receive waits
    for a free connection); channels_redis would hand those to a raising pool.
    """

    def create_pool(self, index: int) -> AsyncBlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return AsyncBlockingConnectionPool.from_url(address, **host)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """channels_redis's group send (same keys, capacities and expiry) in two round
        trips instead of four, and not back to the channel an event names as its `sender`
        (which already has it): a visitor's message with no other tab open costs one."""
        assert self.require_valid_group_name(group), "Group name not valid"
        key = self._group_key(group)
        connection = self.connection(self.consistent_hash(group))
        pipe = connection.pipeline(transaction=False)
        pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
        pipe.zrange(key, 0, -1)
        _, members = await pipe.execute()
        sender = message.get("sender")
        channel_names = [name for name in (m.decode("utf8") for m in members) if name != sender]
        if not channel_names:
            return
        by_connection, messages, capacities = self._map_channel_keys_to_connection(
            channel_names, message
        )
        for index, channel_keys in by_connection.items():
            args = [messages[k] for k in channel_keys] + [capacities[k] for k in channel_keys]
            over = await self.connection(index).eval(
                _GROUP_SEND, len(channel_keys), *channel_keys, *args, time.time(), self.expiry
            )
            if over:
                logger.info(
                    "%s of %s channels over capacity in group %s", over, len(channel_names), group
                )
