"""Liveness and readiness probes.

`/readyz` also reports the Celery worker in services mode (its heartbeat, docs/monitoring.md)
without failing on it: a load balancer must not take every web process out of service
because the worker stalled. `/readyz?worker=required` does fail (503) on a stale worker,
for an uptime monitor.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from psycopg_pool import ConnectionPool, PoolTimeout

from analytics.monitoring.heartbeat import worker_heartbeat_age

READYZ_DATABASE_WAIT_SECONDS = 2.0


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    """A connection that answers within READYZ_DATABASE_WAIT_SECONDS.

    On PostgreSQL the probe asks the process's pool itself, with a wait of its own: through
    Django it would wait the pool's timeout (10 s) while PostgreSQL is down. A connection
    that died idle says nothing about the database, so the pool then tests its idle ones
    and the probe asks once more; finding none at all within the wait is the answer.
    """
    pool: ConnectionPool[Any] | None = getattr(connection, "pool", None)
    if pool is None:  # SQLite, or PostgreSQL without a pool
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    pool.open()  # as Django does on first use; a no-op once open
    try:
        return _pool_answers(pool)
    except PoolTimeout:
        raise
    except psycopg.Error:
        pool.check()
        return _pool_answers(pool)


def _pool_answers(pool: ConnectionPool[Any]) -> bool:
    with pool.connection(timeout=READYZ_DATABASE_WAIT_SECONDS) as conn:
        return bool(conn.execute("SELECT 1").fetchone() == (1,))


def _cache_ok() -> bool:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 5)
    ok = bool(cache.get(key) == "1")
    cache.delete(key)
    return ok


def _channel_layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False

    async def roundtrip() -> bool:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "readyz.ping"})
        message = await layer.receive(channel)
        return bool(message.get("type") == "readyz.ping")

    return bool(async_to_sync(roundtrip)())


CHECKS = {"database": _database_ok, "cache": _cache_ok, "channel_layer": _channel_layer_ok}


def worker_state() -> str:
    """The worker's state: "ok", or why it looks stale (the heartbeat task has not run)."""
    age = worker_heartbeat_age()
    if age is None:
        return "stale: no heartbeat yet"
    if age > settings.WORKER_STALE_MINUTES * 60:
        return f"stale: last heartbeat {int(age)} s ago"
    return "ok"


def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = "ok" if check() else "failing"
        except Exception as exc:  # noqa: BLE001 (a probe reports any failure, it never raises)
            results[name] = f"failing: {type(exc).__name__}"
    failing = [name for name, state in results.items() if state != "ok"]
    degraded: list[str] = []
    if settings.SERVICES_MODE:  # embedded mode runs tasks in-process: there is no worker
        try:
            results["worker"] = worker_state()
        except Exception as exc:  # noqa: BLE001 (as above)
            results["worker"] = f"failing: {type(exc).__name__}"
        if results["worker"] != "ok":
            if request.GET.get("worker") == "required":
                failing.append("worker")
            else:
                degraded.append("worker")
    status = 503 if failing else 200
    overall = "failing" if failing else "degraded" if degraded else "ok"
    return JsonResponse(
        {"status": overall, "checks": results, "failing": failing, "degraded": degraded},
        status=status,
    )
