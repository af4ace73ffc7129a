"""Visitors live now: the open widget websockets of each agent.

Each connection holds an entry that expires unless it is renewed: the consumer calls
`presence_enter` on connect, which renews it every RENEW_SECONDS from a small task, and
`presence_leave` on disconnect. A process that crashes stops renewing, so its connections
drop out of the count within TTL_SECONDS instead of haunting it.

With Redis (services mode) the entries are a sorted set per agent (member: the channel
name, score: when it expires), shared by every process; embedded, a dict in this process.
Presence must never break a chat: a Redis error is logged and the count is simply off.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

TTL_SECONDS = 90
RENEW_SECONDS = 30

_lock = threading.Lock()
_memory: dict[str, dict[str, float]] = {}
_clients: dict[str, Any] = {}


def _key(agent_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:presence:{agent_id}"


def _async_client() -> Any:
    """One asyncio Redis client per event loop (a client cannot cross loops; a new loop may
    reuse a closed one's id, so the loop itself is checked too)."""
    loop = asyncio.get_running_loop()
    loop_key = f"async:{id(loop)}"
    entry = _clients.get(loop_key)
    if entry is None or entry[0] is not loop:
        import redis.asyncio as aredis

        entry = _clients[loop_key] = (
            loop,
            aredis.Redis.from_url(settings.REDIS_URL, socket_timeout=2),
        )
    return entry[1]


def _sync_client() -> Any:
    client = _clients.get("sync")
    if client is None:
        import redis

        client = _clients["sync"] = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    return client


async def _mark(agent_id: str, connection_id: str) -> None:
    now = time.time()
    expires = now + TTL_SECONDS
    if settings.REDIS_URL:
        pipe = _async_client().pipeline(transaction=False)
        pipe.zremrangebyscore(_key(agent_id), "-inf", now)  # a crashed process's leftovers
        pipe.zadd(_key(agent_id), {connection_id: expires})
        pipe.expire(_key(agent_id), TTL_SECONDS * 2)  # the key goes when every process has
        await pipe.execute()
        return
    with _lock:
        _memory.setdefault(agent_id, {})[connection_id] = expires


async def _unmark(agent_id: str, connection_id: str) -> None:
    if settings.REDIS_URL:
        await _async_client().zrem(_key(agent_id), connection_id)
        return
    with _lock:
        _memory.get(agent_id, {}).pop(connection_id, None)


@dataclass
class PresenceTicket:
    """One connection's place in the count; give it back with `presence_leave`."""

    agent_id: str
    connection_id: str
    renewer: asyncio.Task[None] | None = field(default=None, repr=False)


async def _renew_forever(ticket: PresenceTicket) -> None:
    while True:
        await asyncio.sleep(RENEW_SECONDS)
        try:
            await _mark(ticket.agent_id, ticket.connection_id)
        except Exception:
            logger.warning("presence renewal failed for %s", ticket.agent_id, exc_info=True)


async def presence_enter(*, agent_id: str, connection_id: str) -> PresenceTicket:
    """Count this connection as a visitor live now (until it leaves, or stops renewing)."""
    ticket = PresenceTicket(agent_id=agent_id, connection_id=connection_id)
    try:
        await _mark(agent_id, connection_id)
    except Exception:
        logger.warning("presence unavailable for %s", agent_id, exc_info=True)
    ticket.renewer = asyncio.create_task(_renew_forever(ticket))
    return ticket


async def presence_leave(ticket: PresenceTicket) -> None:
    if ticket.renewer is not None:
        # Not awaited: waiting for it would have to swallow CancelledError, and when the
        # consumer itself is being cancelled that would swallow *its* cancellation too.
        ticket.renewer.cancel()
    try:
        await _unmark(ticket.agent_id, ticket.connection_id)
    except Exception:
        logger.warning("presence leave failed for %s", ticket.agent_id, exc_info=True)


def presence_counts(agent_ids: Iterable[str]) -> dict[str, int]:
    """Open widget connections per agent, counting only entries that have not expired."""
    ids = list(dict.fromkeys(agent_ids))
    now = time.time()
    if settings.REDIS_URL:
        try:
            pipe = _sync_client().pipeline(transaction=False)
            for agent_id in ids:
                pipe.zcount(_key(agent_id), now, "+inf")
            return {agent_id: int(n) for agent_id, n in zip(ids, pipe.execute(), strict=True)}
        except Exception:
            logger.warning("presence counts unavailable", exc_info=True)
            return dict.fromkeys(ids, 0)
    with _lock:
        for entries in _memory.values():  # forget the expired now and then
            for connection_id in [c for c, expires in entries.items() if expires <= now]:
                del entries[connection_id]
        return {agent_id: len(_memory.get(agent_id, {})) for agent_id in ids}
