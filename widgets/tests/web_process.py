"""A platform web server the tests can kill hard and start again on the same port.

On PostgreSQL it is a real uvicorn process started with `make run`'s arguments against this
test run's database (and Redis db, when there is one), and `kill()` is SIGKILL: its sockets
die with it, nothing is closed politely, nothing of it runs its shutdown. The embedded mode
keeps the test database in this process's memory, where no other process reaches it, so
there the server runs in a thread and `kill()` aborts every connection and the listener at
once — no close frame, no shutdown — which is what a browser sees of a process that died.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import uvicorn
from django.conf import settings
from django.db import connection

from security.tests.hostile.test_client_address import make_recipe_server_args
from widgets.tests.live import fresh_application, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_S = 40.0
SERVED_APP = "widgets.tests.served_asgi:application"


class WebServer(Protocol):
    url: str

    def start(self) -> None: ...

    def kill(self) -> None: ...

    def stop(self) -> None: ...


def services_env() -> dict[str, str]:
    """This test run's database and Redis db, for the processes it starts."""
    db = connection.settings_dict
    login = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    url = f"postgres://{login}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_TEST_NAME",)}
    env.update(
        DATABASE_URL=url,
        REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        DATABASE_POOL_MAX_SIZE="4",
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = str(settings.REDIS_URL)
    return env


def wait_listening(ports: list[int], procs: list[subprocess.Popen[bytes]]) -> None:
    """Until every port answers `/healthz`; fails if a process dies meanwhile."""
    deadline = time.monotonic() + START_S
    waiting = set(ports)
    while waiting:
        assert all(p.poll() is None for p in procs), "a process of the platform died"
        assert time.monotonic() < deadline, f"web processes on {waiting} did not start"
        for port in list(waiting):
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    waiting.discard(port)
                conn.close()
        time.sleep(0.2)


def can_run_apart() -> bool:
    """Whether a web process of its own would see this test's database."""
    return connection.vendor == "postgresql"


class WebProcess:
    """`make run`'s uvicorn as a child process (its app serving the widget build)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://localhost:{port}"
        self.env = services_env()
        args = make_recipe_server_args("run", port)
        app = args.index("config.asgi:application")  # a recipe without it fails loudly here
        self.argv = [str(BIN / "uvicorn"), *args[:app], SERVED_APP, *args[app + 1 :]]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, start_new_session=True)
        wait_listening([self.port], [self.proc])

    def kill(self) -> None:
        assert self.proc is not None, "not running"
        self.proc.kill()
        assert self.proc.wait(timeout=10) == -signal.SIGKILL
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


class WebThread:
    """The platform in a thread of this process, for the embedded mode."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://localhost:{port}"
        self.application = fresh_application()
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.server, self.thread = serve_in_thread(self.application, self.port)

    def kill(self) -> None:
        server = self.server
        assert server is not None and server.servers, "not running"

        def crash() -> None:
            for listener in server.servers:
                listener.close()
            for protocol in list(server.server_state.connections):
                protocol.transport.abort()  # a reset, as the kernel does for a dead process
            server.should_exit = server.force_exit = True

        server.servers[0].get_loop().call_soon_threadsafe(crash)
        self.join()

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.join()

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.server = self.thread = None


def web_server(port: int) -> WebServer:
    """A process of its own where the database allows it, else a thread."""
    return WebProcess(port) if can_run_apart() else WebThread(port)
