"""Figures that belong to the whole deployment rather than to one process.

Celery's queue depth and its task failures happen in Redis and in worker processes, which
may run on other hosts than the web process answering `/metrics`. They are kept where
every process can read them (Redis in services mode) and read at scrape time. In the
embedded mode there is one process and no broker, so a process-local count is the truth.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from functools import lru_cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# kombu's Redis transport keeps one list per priority step: "celery", "celery\x06\x163", ...
PRIORITY_STEPS = (0, 3, 6, 9)
PRIORITY_SEPARATOR = "\x06\x16"

_local_failures: Counter[str] = Counter()
_local_lock = threading.Lock()


@lru_cache(maxsize=1)
def _redis(url: str) -> redis.Redis:
    # Short timeouts: a scrape must answer even while Redis is down.
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _broker() -> redis.Redis | None:
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    return _redis(url) if url.startswith(("redis://", "rediss://")) else None


def _failures_key() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:monitoring:task-failures"


def task_failure_record(task_name: str) -> None:
    """Count one failed Celery task (called from the `task_failure` signal)."""
    client = _broker()
    if client is None:
        with _local_lock:
            _local_failures[task_name] += 1
        return
    try:
        client.hincrby(_failures_key(), task_name[:200], 1)
    except redis.RedisError:
        logger.warning("could not count the failure of %s", task_name)


def task_failures() -> dict[str, int]:
    """Failed tasks by name since the counts began (a Redis flush starts them again)."""
    client = _broker()
    if client is None:
        with _local_lock:
            return dict(_local_failures)
    raw: dict[bytes, bytes] = client.hgetall(_failures_key())  # type: ignore[assignment]
    return {name.decode(): int(count) for name, count in raw.items()}


def celery_queue_lengths() -> dict[str, int]:
    """Messages waiting in the default queue (all priority lists); empty without a broker."""
    client = _broker()
    if client is None:
        return {}
    queue = str(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery"))
    prefix = str(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", ""))
    keys = [prefix + queue] + [
        f"{prefix}{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS if step
    ]
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.llen(key)
        lengths = pipe.execute()
    return {queue: sum(int(n) for n in lengths)}
