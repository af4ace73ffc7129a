"""Rate limits: fixed windows counted atomically.

With Redis (services mode) each hit is one Lua script run — INCRBY, and PEXPIRE on the
first hit of a window — so concurrent requests can never all slip under the limit. The
embedded mode counts in process memory under a lock, which is exact for its one process.

`rate_limits_checked` is the hot path's one round trip: in a single script it compares
the stamps of what the caller compiled in memory (security.stamps), counts its limits,
and may spend a one-time token (a refresh token), so a public widget request costs one
Redis round trip however many checks it makes.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from django.conf import settings
from django.core.cache import cache

from security.redis_client import redis_async_client, redis_sync_client
from security.stamps import stamp_key, stamps_read

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
# Registered scripts, per script and Redis URL (a settings change gets its own).
_clients: dict[tuple[str, str], Any] = {}


def _registered(name: str, source: str) -> Any:
    key = (name, str(settings.REDIS_URL))
    script = _clients.get(key)
    if script is None:
        script = _clients[key] = redis_sync_client().register_script(source)
    return script


def _redis_key(limit: Limit, key: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:rl:{limit.name}:{key}"


def _decide(limit: Limit, count: int, ttl_seconds: float) -> Decision:
    allowed = count <= limit.rate
    return Decision(
        allowed=allowed, count=count, retry_after=0 if allowed else max(1, round(ttl_seconds + 0.5))
    )


def _sync_client() -> Any:
    return _registered("sync", _SCRIPT)


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


# KEYS: the gates, then the counters. ARGV: #gates, then (window ms, rate) per key. Gates
# are counted in order and the first one exceeded stops everything after it; counters
# (only reached when every gate let the hit through) are all counted.
_GATED_SCRIPT = """
local gates, replies = tonumber(ARGV[1]), {}
for i = 1, #KEYS do
  local n = redis.call('INCRBY', KEYS[i], 1)
  if n == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * i]) end
  replies[#replies + 1] = n
  replies[#replies + 1] = redis.call('PTTL', KEYS[i])
  if i <= gates and n > tonumber(ARGV[2 * i + 1]) then break end
end
return replies
"""


async def arate_limits_gated(
    gates: Sequence[tuple[Limit, str]], counted: Sequence[tuple[Limit, str]] = ()
) -> list[Decision]:
    """Count `gates` in order until one refuses, then (if none did) every one of `counted`
    whatever its outcome, in one Redis round trip. The decisions cover what was counted:
    fewer than asked means the last one is the gate that refused."""
    if not settings.RATE_LIMITS_ENABLED:
        return [ALLOWED for _ in [*gates, *counted]]
    hits = [*gates, *counted]
    if not settings.REDIS_URL:
        decisions: list[Decision] = []
        for index, (limit, key) in enumerate(hits):
            decisions.append(_in_memory(limit, key, 1))
            if index < len(gates) and not decisions[-1].allowed:
                break
        return decisions
    client = redis_async_client()
    script = _gated_scripts.get(client)
    if script is None:
        script = _gated_scripts[client] = client.register_script(_GATED_SCRIPT)
    args: list[Any] = [len(gates)]
    for limit, _ in hits:
        args += [limit.window * 1000, limit.rate]
    reply = await script(keys=[_redis_key(limit, key) for limit, key in hits], args=args)
    answered = hits[: len(reply) // 2]
    return [_from_script(limit, reply[2 * i : 2 * i + 2]) for i, (limit, _) in enumerate(answered)]


_async_scripts: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_gated_scripts: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _async_script() -> Any:
    """The counting script on the running loop's shared client (security.redis_client)."""
    client = redis_async_client()
    script = _async_scripts.get(client)
    if script is None:
        script = _async_scripts[client] = client.register_script(_SCRIPT)
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


# --- Stamps, limits and a one-time token in one round trip ------------------------------

ANY_STAMP = "*"  # compare nothing: the caller's copy was compiled after this request began

# KEYS: the stamps, the counters, then (optionally) the one-time key and its family's key.
# ARGV: #stamps, #counters, the expected stamps, (cost, window ms, rate) per counter, and
# the one-time key's lifetime in ms. A stale stamp counts nothing; counting stops at the
# first limit exceeded (a refused request must not use up the next limit, nor a token).
_CHECKED_SCRIPT = """
local ns, nh = tonumber(ARGV[1]), tonumber(ARGV[2])
local stamps, current = {}, 1
if ns > 0 then
  local found = redis.call('MGET', unpack(KEYS, 1, ns))
  for i = 1, ns do
    local value = found[i] or '-'
    stamps[i] = value
    local expected = ARGV[2 + i]
    if expected ~= '*' and expected ~= value then current = 0 end
  end
end
if current == 0 then return {0, stamps, {}, 0} end
local counts, allowed = {}, 1
for j = 1, nh do
  local key, at = KEYS[ns + j], 2 + ns + (j - 1) * 3
  local cost = tonumber(ARGV[at + 1])
  local n = redis.call('INCRBY', key, cost)
  if n == cost then redis.call('PEXPIRE', key, ARGV[at + 2]) end
  counts[#counts + 1] = n
  counts[#counts + 1] = redis.call('PTTL', key)
  if n > tonumber(ARGV[at + 3]) then
    allowed = 0
    break
  end
end
local spend = 0
if allowed == 1 and #KEYS > ns + nh then
  local once, family, ttl = KEYS[ns + nh + 1], KEYS[ns + nh + 2], ARGV[#ARGV]
  if redis.call('EXISTS', family) == 1 then
    spend = 3
  elseif redis.call('SET', once, '1', 'NX', 'PX', ttl) then
    spend = 1
  else
    redis.call('SET', family, '1', 'PX', ttl)
    spend = 2
  end
end
return {1, stamps, counts, spend}
"""


class Spend(IntEnum):
    """What became of a one-time token."""

    NOT_ASKED = 0  # none was given, or a limit refused the request first
    SPENT = 1  # first use: good
    REUSED = 2  # spent before: refused, and its whole family is revoked now
    REVOKED = 3  # its family was revoked earlier


@dataclass(frozen=True)
class OneTimeUse:
    """A token that may be spent once; spending it twice revokes its whole family."""

    token_id: str
    family: str
    ttl: int  # seconds to remember both


@dataclass(frozen=True)
class Checked:
    current: bool  # every stamp was as expected (otherwise nothing was counted or spent)
    stamps: list[str]  # the stamps as they are now
    decisions: list[Decision] = field(default_factory=list)  # in order; stops at a refusal
    spend: Spend = Spend.NOT_ASKED

    def refusal(self, index: int) -> Decision | None:
        """Limit `index`'s decision if it refused the request."""
        if index < len(self.decisions) and not self.decisions[index].allowed:
            return self.decisions[index]
        return None


def _checked_script() -> Any:
    return _registered("checked", _CHECKED_SCRIPT)


def rate_limits_checked(
    *,
    stamps: Sequence[tuple[str, str]],
    hits: Sequence[tuple[Limit, str]] = (),
    once: OneTimeUse | None = None,
) -> Checked:
    """Compare `stamps` (name, expected value or ANY_STAMP), then count `hits` in order
    and spend `once` — in one Redis round trip.

    When a stamp differs nothing is counted or spent: the caller recompiles what it
    holds and asks again. Counting stops at the first limit exceeded; `once` is spent
    only when every limit allowed the request.
    """
    counted = hits if settings.RATE_LIMITS_ENABLED else ()
    if not settings.REDIS_URL:
        return _checked_in_memory(stamps, counted, once, len(hits))
    keys = [stamp_key(name) for name, _ in stamps] + [_redis_key(lim, k) for lim, k in counted]
    args: list[Any] = [len(stamps), len(counted), *(expected for _, expected in stamps)]
    for limit, _ in counted:
        args += [1, limit.window * 1000, limit.rate]
    if once is not None:
        prefix = settings.REDIS_KEY_PREFIX
        keys += [f"{prefix}:once:{once.token_id}", f"{prefix}:once-family:{once.family}"]
        args.append(once.ttl * 1000)
    fresh, found, counts, spend = _checked_script()(keys=keys, args=args)
    now = [v.decode() if isinstance(v, bytes) else str(v) for v in found]
    if not fresh:
        return Checked(current=False, stamps=now)
    decisions = [
        _decide(limit, int(counts[2 * i]), max(int(counts[2 * i + 1]), 0) / 1000)
        for i, (limit, _) in enumerate(counted[: len(counts) // 2])
    ]
    return Checked(
        current=True, stamps=now, decisions=_padded(decisions, len(hits)), spend=Spend(spend)
    )


def _padded(decisions: list[Decision], asked: int) -> list[Decision]:
    # Limits switched off allow everything (RATE_LIMITS_ENABLED=false, load tests only).
    return decisions if settings.RATE_LIMITS_ENABLED else [ALLOWED] * asked


def _checked_in_memory(
    stamps: Sequence[tuple[str, str]],
    hits: Sequence[tuple[Limit, str]],
    once: OneTimeUse | None,
    asked: int,
) -> Checked:
    now = stamps_read([name for name, _ in stamps])
    if any(exp not in (ANY_STAMP, value) for (_, exp), value in zip(stamps, now, strict=True)):
        return Checked(current=False, stamps=now)
    decisions: list[Decision] = []
    for limit, key in hits:
        decisions.append(_in_memory(limit, key, 1))
        if not decisions[-1].allowed:
            return Checked(current=True, stamps=now, decisions=decisions)
    spend = _spend_in_memory(once) if once is not None else Spend.NOT_ASKED
    return Checked(current=True, stamps=now, decisions=_padded(decisions, asked), spend=spend)


def _spend_in_memory(once: OneTimeUse) -> Spend:
    family_key = f"once-family:{once.family}"
    if cache.get(family_key):
        return Spend.REVOKED
    if cache.add(f"once:{once.token_id}", 1, timeout=once.ttl):
        return Spend.SPENT
    cache.set(family_key, 1, timeout=once.ttl)
    return Spend.REUSED
