"""PostgreSQL, Redis (cache, channel layer, Celery broker) and Celery: services mode
with DATABASE_URL / REDIS_URL, embedded without them."""

from __future__ import annotations

from typing import Any

import dj_database_url

from config.beat import beat_schedule
from config.settings.base import BASE_DIR, DATABASE_URL, REDIS_URL
from core.env import (
    env_bool,
    env_int,
    env_str,
)

# --- Database ------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")}
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (websocket handlers run in a thread pool) must queue for the write
    # lock, not fail: BEGIN IMMEDIATE waits up to `timeout`; WAL lets readers go on meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Under ASGI, Django runs each request's sync work in a thread of its own, so persistent
# per-thread connections leak (PostgreSQL soon answers "too many clients"). On PostgreSQL
# a connection pool per process (psycopg_pool, via Django) reuses connections instead.
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_MAX_SIZE:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": 10,
        # psycopg_pool retries a refused connection with a doubling delay for this long
        # (default 5 min): after a 70 s outage it tried again only 54 s after PostgreSQL
        # was back. Given up after 10 s, the next request starts afresh (2 s, measured).
        "reconnect_timeout": 10,
    }
    # No CONN_HEALTH_CHECKS (a check per checkout): a dropped connection is handled where it
    # surfaces, and the pool is purged then (core.database_faults says why).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
_test_db_name = env_str("DATABASE_TEST_NAME")
if _test_db_name:
    DATABASES["default"]["TEST"] = {"NAME": _test_db_name}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, Celery ----------------------------------------------
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "ca")
# Every Redis user in a process has one bounded pool (core.redis_pools): at most this many
# connections each (channel layer, cache, rate limits and presence, Celery's publisher), and
# a caller finding them all busy waits up to REDIS_POOL_TIMEOUT seconds rather than failing.
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 50, minimum=2)
REDIS_POOL_TIMEOUT = env_int("REDIS_POOL_TIMEOUT", 10, minimum=1)
if REDIS_URL:
    CACHES: dict[str, Any] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {
                "pool_class": "core.redis_pools.SharedBlockingConnectionPool",
                "max_connections": REDIS_MAX_CONNECTIONS,
                "timeout": REDIS_POOL_TIMEOUT,
                "socket_connect_timeout": 5,
                "socket_timeout": 5,
            },
        }
    }
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {
            "BACKEND": "core.redis_pools.RedisChannelLayer",
            "CONFIG": {
                # Reads must outlast channels_redis's 5 s blocking pop: redis-py 8 times out
                # reads after 5 s by default, which killed every socket idle that long.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "max_connections": REDIS_MAX_CONNECTIONS,
                        "timeout": REDIS_POOL_TIMEOUT,
                    }
                ],
                "prefix": f"{REDIS_KEY_PREFIX}:asgi",
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
# Embedded mode: run answers and greetings beside the server instead of inside the request
# or websocket handler that caused them, so answers stream (core.task_queue).
EMBEDDED_TASKS_DETACHED = env_bool("EMBEDDED_TASKS_DETACHED", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A Redis restart must not leave a worker connected to nothing (docs/operations.md): retry
# the broker forever, at start-up too; drop a dead socket within seconds (keepalive, and
# redis-py's health check pings an idle connection); cancel tasks whose connection was lost
# (acks_late: they are redelivered) rather than letting them ack into a dead channel.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_HEARTBEAT = 10  # AMQP only; Redis relies on the transport options below
# Publishing (web processes queue answers) takes a connection from a pool of this many and
# waits for one when all are busy, bounded like every other Redis pool.
CELERY_BROKER_POOL_LIMIT = env_int("CELERY_BROKER_POOL_LIMIT", 10, minimum=1)
CELERY_BROKER_POOL_ACQUIRE_TIMEOUT = REDIS_POOL_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": f"{REDIS_KEY_PREFIX}:celery:",
    "max_connections": REDIS_MAX_CONNECTIONS,
    "socket_keepalive": True,
    "health_check_interval": 10,
    "socket_timeout": 30,
    "socket_connect_timeout": 5,
    "retry_on_timeout": True,
    # A task taken by a worker that died is handed out again after this long (acks_late).
    "visibility_timeout": 3600,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Analytics (docs/analytics.md): raw events are kept this long, then pruned; roll-ups stay.
ANALYTICS_RETENTION_DAYS = env_int("ANALYTICS_RETENTION_DAYS", 90, minimum=2)
ANALYTICS_ROLLUP_SECONDS = env_int("ANALYTICS_ROLLUP_SECONDS", 300, minimum=10)
CELERY_TIMEZONE = "UTC"
# Lost answers (conversations.recovery, docs/operations.md#faults): every REPLY_SWEEP_SECONDS
# the visitor messages left unanswered for REPLY_SWEEP_AFTER_SECONDS (and sent within
# REPLY_SWEEP_WINDOW_SECONDS) have their answer queued again.
REPLY_SWEEP_SECONDS = env_int("REPLY_SWEEP_SECONDS", 10, minimum=1)
REPLY_SWEEP_AFTER_SECONDS = env_int("REPLY_SWEEP_AFTER_SECONDS", 20, minimum=5)
REPLY_SWEEP_WINDOW_SECONDS = env_int("REPLY_SWEEP_WINDOW_SECONDS", 24 * 60 * 60, minimum=60)
# What beat runs when (config/beat.py); `make run` runs it in-process (embedded_beat).
CELERY_BEAT_SCHEDULE = beat_schedule(
    rollup_seconds=ANALYTICS_ROLLUP_SECONDS, sweep_seconds=REPLY_SWEEP_SECONDS
)
