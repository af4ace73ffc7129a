"""Worker liveness: a beat task stamps the time; anyone can ask how old the stamp is.

The stamp is written by a Celery task, so it only moves while a worker actually consumes
the queue: a worker that died, or one left idle after a Redis restart, lets it age.
"""

from __future__ import annotations

import time

from django.core.cache import cache

HEARTBEAT_KEY = "monitoring:worker-heartbeat"


def worker_heartbeat_record() -> float:
    stamp = time.time()
    cache.set(HEARTBEAT_KEY, stamp, timeout=None)
    return stamp


def worker_heartbeat_age() -> float | None:
    """Seconds since a worker last ran the heartbeat task; None when it never has."""
    stamp = cache.get(HEARTBEAT_KEY)
    if not isinstance(stamp, int | float):
        return None
    return max(0.0, time.time() - float(stamp))
