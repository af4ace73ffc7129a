"""Visitors live now: the open widget websockets of each agent.

Each connection holds an entry that expires unless it is renewed: the consumer calls
`presence_enter` on connect and `presence_leave` on disconnect; one task per process (per
event loop) renews every connection of the process every RENEW_SECONDS in one Redis round
trip, so an idle socket costs no task and no timer of its own. A process that crashes
stops renewing, so its connections drop out of the count within TTL_SECONDS instead of
haunting it.

With Redis (services mode) the entries are a sorted set per agent (member: the channel
name, score: when it expires), shared by every process; embedded, a dict in this process.
Presence must never break a chat: a Redis error is logged and the count is simply off.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from security.redis_client import redis_async_client, redis_sync_client

logger = logging.getLogger(__name__)

TTL_SECONDS = 90
RENEW_SECONDS = 30

_lock = threading.Lock()
_memory: dict[str, dict[str, float]] = {}


def _key(agent_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:presence:{agent_id}"


async def _mark(connections: dict[str, set[str]]) -> None:
    """(Re)count these connections of each agent as live for TTL_SECONDS from now."""
    now = time.time()
    expires = now + TTL_SECONDS
    if settings.REDIS_URL:
        pipe = redis_async_client().pipeline(transaction=False)
        for agent_id, connection_ids in connections.items():
            if not connection_ids:
                continue
            pipe.zremrangebyscore(_key(agent_id), "-inf", now)  # a crashed process's leftovers
            pipe.zadd(_key(agent_id), dict.fromkeys(connection_ids, expires))
            pipe.expire(_key(agent_id), TTL_SECONDS * 2)  # the key goes when every process has
        await pipe.execute()
        return
    with _lock:
        for agent_id, connection_ids in connections.items():
            _memory.setdefault(agent_id, {}).update(dict.fromkeys(connection_ids, expires))


async def _unmark(agent_id: str, connection_id: str) -> None:
    if settings.REDIS_URL:
        await redis_async_client().zrem(_key(agent_id), connection_id)
        return
    with _lock:
        _memory.get(agent_id, {}).pop(connection_id, None)


@dataclass
class PresenceTicket:
    """One connection's place in the count; give it back with `presence_leave`."""

    agent_id: str
    connection_id: str
    # The process's renewer (shared by every connection on this event loop).
    renewer: asyncio.Task[None] | None = field(default=None, repr=False)


@dataclass
class _Live:
    """The connections of one event loop (one web process) and the task renewing them."""

    connections: dict[str, set[str]] = field(default_factory=dict)
    renewer: asyncio.Task[None] | None = None


_live: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Live] = weakref.WeakKeyDictionary()


async def _renew_forever(live: _Live) -> None:
    while live.connections:
        await asyncio.sleep(RENEW_SECONDS)
        try:
            await _mark(live.connections)
        except Exception:
            logger.warning("presence renewal failed", exc_info=True)


def _register(agent_id: str, connection_id: str) -> _Live:
    loop = asyncio.get_running_loop()
    live = _live.get(loop)
    if live is None:
        live = _live[loop] = _Live()
    live.connections.setdefault(agent_id, set()).add(connection_id)
    if live.renewer is None or live.renewer.done():
        live.renewer = loop.create_task(_renew_forever(live))
    return live


async def presence_enter(*, agent_id: str, connection_id: str) -> PresenceTicket:
    """Count this connection as a visitor live now (until it leaves, or stops renewing)."""
    try:
        await _mark({agent_id: {connection_id}})
    except Exception:
        logger.warning("presence unavailable for %s", agent_id, exc_info=True)
    live = _register(agent_id, connection_id)
    return PresenceTicket(agent_id=agent_id, connection_id=connection_id, renewer=live.renewer)


async def presence_leave(ticket: PresenceTicket) -> None:
    live = _live.get(asyncio.get_running_loop())
    if live is not None:
        members = live.connections.get(ticket.agent_id, set())
        members.discard(ticket.connection_id)
        if not members:
            live.connections.pop(ticket.agent_id, None)
        if not live.connections and live.renewer is not None:
            # Not awaited: waiting for it would have to swallow CancelledError, and when the
            # consumer itself is being cancelled that would swallow *its* cancellation too.
            live.renewer.cancel()
            live.renewer = None
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
            pipe = redis_sync_client().pipeline(transaction=False)
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
