"""Celery consumes again after its Redis comes back, proved by a canary task, not a ping.

A real `celery -A config worker`, with the Makefile's flags and the project's settings as
they are, is started against a redis-server of the test's own before that server is up.
Once it is up, a canary (analytics.tasks.worker_heartbeat, which stamps the time in the
cache: the same Redis) must run within a minute. Then the server is killed (SIGKILL) and
started again, empty, on the same port: a second canary must run within a minute too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache

from analytics.monitoring.heartbeat import HEARTBEAT_KEY
from analytics.tasks import worker_heartbeat
from config.celery import app
from config.tests.faults import RedisServer, redis_server, service_required

ROOT = Path(__file__).resolve().parents[2]
# The Makefile's CELERY_WORKER_FLAGS, with a concurrency of its own (a test needs two).
WORKER_FLAGS = ["--pool=threads", "--concurrency=2", "--without-gossip", "--without-mingle"]
WORKER = [sys.executable, "-m", "celery", "-A", "config", "worker", *WORKER_FLAGS, "-l", "INFO"]
BACK_WITHIN_SECONDS = 60


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    service_required(bool(settings.REDIS_URL), "Redis (REDIS_URL)")
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def worker(broker: RedisServer, tmp_path: Path) -> Iterator[Path]:
    """The worker, started while its broker is down; yields its log."""
    log_path = tmp_path / "worker.log"
    env = {**os.environ, "REDIS_URL": broker.url, "WORKER_LOG_LEVEL": "INFO"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            WORKER,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield log_path
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def log_wait(log_path: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"no {text!r} in the worker's log:\n{tail(log_path)}"
        time.sleep(0.2)


def tail(log_path: Path, lines: int = 40) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def canary_send(broker: RedisServer) -> float:
    """Queue the canary on this broker; returns when it was sent."""
    sent_at = time.time()
    with app.connection_for_write(url=broker.url) as connection:
        app.send_task(worker_heartbeat.name, connection=connection)
    return sent_at


def canary_ran_within(broker: RedisServer, sent_at: float, log_path: Path) -> float:
    """Seconds until the canary's stamp (written by the worker) shows up in the broker's
    Redis; fails after BACK_WITHIN_SECONDS."""
    cache = RedisCache(broker.url, {"KEY_PREFIX": settings.REDIS_KEY_PREFIX})
    deadline = time.monotonic() + BACK_WITHIN_SECONDS
    while True:
        stamp = cache.get(HEARTBEAT_KEY)
        if isinstance(stamp, float) and stamp >= sent_at:
            return time.time() - sent_at
        assert time.monotonic() < deadline, (
            f"the canary did not run within {BACK_WITHIN_SECONDS} s:\n{tail(log_path)}"
        )
        time.sleep(0.2)


def test_the_worker_consumes_once_redis_is_up_and_again_after_redis_restarts_empty(
    broker: RedisServer, worker: Path
) -> None:
    # Started, and backing off a broker that is not there: 2, 4, 6 s... (up to 30 s apart).
    log_wait(worker, "(3/None)")
    broker.start()
    first = canary_ran_within(broker, canary_send(broker), worker)

    broker.kill()
    broker.start()  # the same port, nothing kept: queues and keys are gone
    second = canary_ran_within(broker, canary_send(broker), worker)

    assert first < BACK_WITHIN_SECONDS and second < BACK_WITHIN_SECONDS
