"""Liveness and readiness probes."""

from __future__ import annotations

import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _cache_ok() -> bool:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 5)
    ok = cache.get(key) == "1"
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


def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = "ok" if check() else "failing"
        except Exception as exc:  # a probe reports, it never raises
            results[name] = f"failing: {type(exc).__name__}"
    failing = [name for name, state in results.items() if state != "ok"]
    status = 503 if failing else 200
    return JsonResponse(
        {"status": "failing" if failing else "ok", "checks": results, "failing": failing},
        status=status,
    )
