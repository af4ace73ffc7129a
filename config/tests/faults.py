"""Server faults for the recovery tests: PostgreSQL connections dropped or refused, and a
Redis server of the test's own that can be killed and started again on the same port.

Only the test's own database and its own redis-server are touched: the machine's servers
are shared and are never stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection, connections
from psycopg import sql
from psycopg_pool import ConnectionPool

from widgets.tests.live import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
NOTHING_KEPT = ["--save", "", "--appendonly", "no", "--daemonize", "no"]


def service_required(available: bool, what: str) -> None:
    """Skip without the service (embedded mode); under CI=true fail instead, because CI
    runs against every real service and a skipped recovery test proves nothing."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"needs {what}")


def postgres_required() -> None:
    service_required(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")


def _conninfo(dbname: str) -> str:
    db = settings.DATABASES["default"]
    return psycopg.conninfo.make_conninfo(
        host=db.get("HOST") or "127.0.0.1",
        port=str(db.get("PORT") or 5432),
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname=dbname,
    )


def _admin_execute(statement: sql.SQL | sql.Composed, params: tuple[str, ...] = ()) -> None:
    """One statement on a connection of its own (to the maintenance database, so it works
    while the test database refuses connections), outside the application's pool."""
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
        admin.execute(statement, params)


def backends_terminate() -> None:
    """Drop every connection the application holds to the test database; this thread's
    goes back to the pool first, so only the server's work meets a dead connection."""
    own_connections_release()
    _admin_execute(
        sql.SQL(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()"
        ),
        (connection.settings_dict["NAME"],),
    )


def _connections_allowed(allowed: bool) -> None:
    _admin_execute(
        sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(connection.settings_dict["NAME"]), sql.SQL(str(allowed).lower())
        )
    )


@contextmanager
def database_unreachable() -> Iterator[None]:
    """The test database refuses every connection, as a PostgreSQL that went away would:
    existing connections are dropped and new ones fail until the block ends."""
    _connections_allowed(False)
    try:
        backends_terminate()
        yield
    finally:
        _connections_allowed(True)


def app_pool() -> ConnectionPool[Any]:
    """The process's connection pool: the server's too, since it runs in this process."""
    pool: ConnectionPool[Any] | None = getattr(connection, "pool", None)
    assert pool is not None, "PostgreSQL runs with a connection pool (config/settings/services.py)"
    return pool


def pool_fill(idle: int) -> None:
    """Leave `idle` connections waiting in the pool, as a burst of visitors would."""
    pool = app_pool()
    pool.open()
    taken = [pool.getconn() for _ in range(idle)]
    for taken_connection in taken:
        pool.putconn(taken_connection)


def own_connections_release() -> None:
    """Hand this thread's connection back, so only the pool holds connections to drop."""
    connections.close_all()


def own_connections_refresh() -> None:
    """After a fault: drop what this thread (pytest-django's flush) would otherwise reuse."""
    connections.close_all()
    if connection.vendor == "postgresql":
        app_pool().check()


class RedisServer:
    """A redis-server of the test's own, on a port of its own, with nothing persisted."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None
        with (self.log_dir / "redis-server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", *NOTHING_KEPT],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise
                time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save; whatever it held is gone."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


@contextmanager
def redis_server(log_dir: Path) -> Iterator[RedisServer]:
    service_required(Path(REDIS_SERVER).exists(), f"redis-server ({REDIS_SERVER})")
    server = RedisServer(log_dir)
    try:
        yield server
    finally:
        server.kill()
