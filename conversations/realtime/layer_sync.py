"""Group sends from synchronous code (a Celery thread) straight over redis-py.

channels_redis speaks asyncio only, so sync code would run an event loop for every send:
about 0.5 ms of CPU each, against 0.2 ms for the same commands on a sync client
(bench/replies.py). The answer task sends two events per answer and an LLM answer a dozen
deltas, so the worker sends this way: the same keys, message format, capacity and expiry
as the layer's own `group_send` (core.redis_pools: one pipelined membership read, then
one script per connection), on one bounded blocking pool per Redis host and process.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from channels_redis.core import RedisChannelLayer

# The layer's own script (core.redis_pools), so both paths store the same thing.
from core.redis_pools import _GROUP_SEND

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def _client(layer: RedisChannelLayer, index: int) -> redis.Redis:
    host = dict(layer.hosts[index])
    address = str(host.pop("address"))
    client = _clients.get(address)
    if client is None:
        with _lock:
            client = _clients.get(address)
            if client is None:
                # The host's own options (timeouts, pool bound), as the layer's pools use.
                pool = redis.BlockingConnectionPool.from_url(address, **host)
                client = _clients[address] = redis.Redis(connection_pool=pool)
    return client


def group_send_sync(layer: Any, group: str, message: dict[str, Any]) -> bool:
    """Send `message` to `group` if `layer` is a Redis layer; False when it is not."""
    if not isinstance(layer, RedisChannelLayer) or any("sentinels" in h for h in layer.hosts):
        return False  # not plain Redis hosts: the layer's own (async) send
    assert layer.require_valid_group_name(group), "Group name not valid"
    key = layer._group_key(group)
    pipe = _client(layer, layer.consistent_hash(group)).pipeline(transaction=False)
    pipe.zremrangebyscore(key, min=0, max=int(time.time()) - layer.group_expiry)
    pipe.zrange(key, 0, -1)
    _, members = pipe.execute()
    sender = message.get("sender")
    names = [name for name in (m.decode("utf8") for m in members) if name != sender]
    if not names:
        return True
    by_connection, messages, capacities = layer._map_channel_keys_to_connection(names, message)
    for index, channel_keys in by_connection.items():
        args = [messages[k] for k in channel_keys] + [capacities[k] for k in channel_keys]
        _client(layer, index).eval(
            _GROUP_SEND, len(channel_keys), *channel_keys, *args, time.time(), layer.expiry
        )
    return True
