"""Stamps: one random token per cached subject, replaced whenever the subject changes.

A process that compiles something from the database into memory (an agent's widget
rules, the IP block list) tags it with the subject's stamp, read *before* the database;
the compiled copy is good for exactly as long as the stamp stays the same. Every process
reads the stamps in the same Redis round trip as its rate-limit count
(security.ratelimit.rate_limits_checked), so a change reaches the very next request in
every process, and an unchanged subject costs no query at all.

Random tokens, not counters: a Redis restart or eviction that loses a stamp cannot bring
back a value some process already holds (a counter restarts at 1 and would). A subject
without a stamp reads as MISSING, which never matches anything compiled from a row that
exists (widgets.delivery.snapshots makes sure of that with `stamp_ensure`).

Embedded mode keeps the stamps in the local-memory cache, the one process's own memory.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from security.redis_client import redis_sync_client

MISSING = "-"
IP_BLOCKS = "ipblocks"

# Set the key to ARGV[1] unless it exists; return what it holds now.
_ENSURE = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
"""


def stamp_key(name: str) -> str:
    """The Redis key of stamp `name` (services mode)."""
    return f"{settings.REDIS_KEY_PREFIX}:stamp:{name}"


def _cache_key(name: str) -> str:
    return f"stamp:{name}"


def _new_token() -> str:
    return secrets.token_hex(8)


def _stamp_set(name: str) -> None:
    token = _new_token()
    if settings.REDIS_URL:
        redis_sync_client().set(stamp_key(name), token)
    else:
        cache.set(_cache_key(name), token, timeout=None)


def stamp_bump(name: str) -> None:
    """Mark `name` changed: every process recompiles it on its next use.

    Inside a transaction, once now and once after the commit: a process that recompiles
    between the two read the old rows, and the second bump sends it back for the new ones.
    """
    _stamp_set(name)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: _stamp_set(name), robust=True)


def stamps_read(names: Sequence[str]) -> list[str]:
    """The current stamps (MISSING for none), in one round trip."""
    if not names:
        return []
    if settings.REDIS_URL:
        values = redis_sync_client().mget([stamp_key(n) for n in names])
        return [v.decode() if isinstance(v, bytes) else MISSING for v in values]
    found = cache.get_many([_cache_key(n) for n in names])
    return [str(found.get(_cache_key(n), MISSING)) for n in names]


def stamp_ensure(name: str) -> str:
    """The stamp of `name`, giving it one first if it has none (call it before reading the
    rows the stamp will tag)."""
    if settings.REDIS_URL:
        value = redis_sync_client().eval(_ENSURE, 1, stamp_key(name), _new_token())
        return value.decode() if isinstance(value, bytes) else str(value)
    token = _new_token()
    if cache.add(_cache_key(name), token, timeout=None):
        return token
    return str(cache.get(_cache_key(name), MISSING))
