"""The platform under test: its mode, environment, database, Redis db and processes."""

from __future__ import annotations

import contextlib
import os
import secrets
import string
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.procs import VENV_BIN, BenchSetupError, Proc, free_port, run_manage, wait_healthy

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# Same lock key as config/testing.py, so a bench and a test run never share a Redis db.
REDIS_LOCK_KEY = "customeragent:test-run-lock"
REDIS_DB_PREFERENCE = (14, 15, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
# All bench traffic comes from one address, like a large office behind one NAT: the demo
# agent raises its per-address limits (every check still runs), as such a site would.
AGENT_ID_CODE = (
    "from agents.models import Agent; from widgets.models import WidgetConfig; "
    "a = Agent.objects.get(workspace__slug='acme-outdoor'); "
    "WidgetConfig.objects.filter(agent=a).update(rate_limits={'session_per_ip': 1000000, "
    "'connect_per_ip': 1000000, 'session_per_agent_domain': 1000000}); "
    "print(a.public_id)"
)
SERVERS = ("uvicorn", "daphne")
TUNING_PREFIXES = ("DATABASE_", "WIDGET_", "BEHIND_TLS_PROXY", "RATE_LIMITS_")
PRODUCT_ASGI_APP = "config.asgi:application"
# The floor (bench.floor): the session's path answered by a trivial DRF view. Served by the
# product's own entry point with the floor's settings, so HTTP goes through the very same
# handler and middleware (config.asgi honours a DJANGO_SETTINGS_MODULE already set).
FLOOR_SETTINGS = "bench.floor.settings"


def _require_local(url: str, name: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        raise BenchSetupError(f"{name} must point at 127.0.0.1/localhost for the bench")


def pg_execute(admin_url: str, sql: str) -> None:
    """One statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    import psycopg

    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.encode())
    except psycopg.Error as exc:
        raise BenchSetupError(f"PostgreSQL: {exc}".strip()) from exc


def bench_env(*, key_prefix: str, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment a benchmarked platform runs with: the caller's, less what must not
    leak into it (a configured LLM endpoint, Celery options, a dev database, `drop`), plus
    production-like settings, a random SECRET_KEY and a Redis key prefix of its own.
    Tuning knobs such as DATABASE_CONN_MAX_AGE pass through (see `Stack.tuning`)."""
    alphabet = string.ascii_letters + string.digits
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LLM_", "CELERY_"))
        and key not in ("DATABASE_URL", "DATABASE_TEST_NAME", "REDIS_URL", *drop)
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(60)),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="localhost,127.0.0.1",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        DEMO_APP="true",  # the bench seeds and serves the demo (seed_demo, serve_demo)
        REDIS_KEY_PREFIX=key_prefix,
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Server:
    name: str
    port: int
    proc: Proc
    argv: list[str]
    version: str
    startup_s: float

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class Stack:
    """Created by `Stack.create()`; `close()` undoes everything it made."""

    mode: str
    env: dict[str, str]
    workdir: Path
    description: str
    pid: int = field(default_factory=os.getpid)
    agent_id: str = ""
    worker: Proc | None = None
    worker_concurrency: int = 4  # threads of the Celery worker (services mode)
    sqlite_path: Path | None = None
    pg_admin_url: str = ""
    pg_database: str = ""
    redis_url: str = ""
    redis_token: str = ""
    started_pgids: list[int] = field(default_factory=list)

    @property
    def tuning(self) -> dict[str, str]:
        """Settings-relevant variables inherited from the caller (recorded with results)."""
        return {
            k: v
            for k, v in self.env.items()
            if k.startswith(TUNING_PREFIXES) and k != "DATABASE_URL"
        }

    @classmethod
    def create(cls) -> Stack:
        pid = os.getpid()
        workdir = Path(tempfile.mkdtemp(prefix=f"ca-bench-{pid}-"))
        env = bench_env(key_prefix=f"ca-bench-{pid}")
        # The bench's model server listens on 127.0.0.1 (security.outbound).
        env["LLM_ALLOW_PRIVATE_URLS"] = "true"
        if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
            return cls("services", env, workdir, "PostgreSQL + Redis + Celery worker")
        path = Path(tempfile.gettempdir()) / f"ca-bench-{pid}.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"
        env["EMBEDDED_TASKS_DETACHED"] = "true"  # as `make run`: answers beside the server
        stack = cls(
            "embedded",
            env,
            workdir,
            "SQLite, in-memory channel layer, eager Celery on the server's worker threads",
        )
        stack.sqlite_path = path
        return stack

    # --- services mode resources -------------------------------------------------------
    def acquire(self) -> None:
        """Services mode: create the bench database and claim a Redis db number."""
        if self.mode != "services":
            return
        database_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
        _require_local(database_url, "DATABASE_URL")
        _require_local(redis_url, "REDIS_URL")
        parts = urlsplit(database_url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise BenchSetupError("services mode needs a postgres:// DATABASE_URL")
        name = f"customeragent_bench_{self.pid}"
        self.pg_admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
        self._pg_execute(f'CREATE DATABASE "{name}"')
        self.pg_database = name  # only now is it ours to drop
        self.env["DATABASE_URL"] = urlunsplit(
            (parts.scheme, parts.netloc, f"/{name}", parts.query, "")
        )
        self._redis_claim(redis_url)
        self.env["REDIS_URL"] = self.redis_url
        self.description += f" (db {self.pg_database}, redis {self.redis_url})"

    def _pg_execute(self, sql: str) -> None:
        pg_execute(self.pg_admin_url, sql)

    def _redis_claim(self, base_url: str) -> None:
        """Take the first free db number (14 first) and empty it, keeping the claim."""
        import redis

        parts = urlsplit(base_url)
        token = f"bench-{self.pid}-{secrets.token_hex(6)}"
        for number in REDIS_DB_PREFERENCE:
            url = urlunsplit((parts.scheme, parts.netloc, f"/{number}", parts.query, ""))
            client = redis.Redis.from_url(url, socket_connect_timeout=3)
            try:
                if client.set(REDIS_LOCK_KEY, token, nx=True, ex=1800):
                    for key in client.scan_iter(count=500):
                        if key != REDIS_LOCK_KEY.encode():
                            client.unlink(key)
                    self.redis_url, self.redis_token = url, token
                    return
            except redis.RedisError as exc:
                raise BenchSetupError(f"Redis: {exc}") from exc
            finally:
                client.close()
        raise BenchSetupError("no free Redis database number (1-15)")

    def _redis_release(self) -> None:
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=3)
        try:
            if client.get(REDIS_LOCK_KEY) == self.redis_token.encode():
                client.flushdb()
        finally:
            client.close()

    # --- the app -------------------------------------------------------------------------
    def prepare_app(self, worker: bool = True) -> None:
        run_manage(["migrate", "--noinput"], self.env)
        run_manage(["seed_demo"], self.env)
        out = run_manage(["shell", "-c", AGENT_ID_CODE], self.env).strip().splitlines()
        if not out or not out[-1].startswith("agt_"):
            raise BenchSetupError(f"could not read the demo agent id: {out!r}")
        self.agent_id = out[-1].strip()
        if self.mode == "services" and worker:
            self._start_worker()

    def _start_worker(self) -> None:
        argv = [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=threads",
            f"--concurrency={self.worker_concurrency}",
            "--loglevel=warning",
            "-n",
            f"bench{self.pid}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        self.worker = self._spawn("celery", argv)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, argv, env or self.env, self.workdir / f"{name}.log")
        self.started_pgids.append(proc.pgid)
        return proc

    def start_server(self, name: str, *, floor: bool = False) -> Server:
        """One server process; `floor=True` serves the floor (bench.floor) instead of the
        product, with the same settings and middleware."""
        port = free_port()
        app = PRODUCT_ASGI_APP
        env = {**self.env, "DJANGO_SETTINGS_MODULE": FLOOR_SETTINGS} if floor else self.env
        if name == "uvicorn":
            argv = [
                str(VENV_BIN / "uvicorn"),
                app,
                "--no-proxy-headers",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ]
        elif name == "daphne":
            # -v 0: no per-request access log on stdout, like uvicorn at --log-level warning.
            argv = [
                str(VENV_BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "-v",
                "0",
                app,
            ]
        else:
            raise BenchSetupError(f"unknown server {name!r}; choose from {', '.join(SERVERS)}")
        proc = self._spawn(f"{name}-floor" if floor else name, argv, env)
        try:
            startup = wait_healthy(proc, port)
        except BaseException:
            proc.stop()
            raise
        return Server(name, port, proc, argv, version(name), round(startup, 2))

    def worker_problems(self) -> list[str]:
        return self.worker.log_problems() if self.worker else []

    def close(self) -> list[str]:
        """Stop processes, drop the database, release Redis; returns what went wrong."""
        problems: list[str] = []
        if self.worker is not None:
            self.worker.stop()
        Proc.stop_all()
        time.sleep(0.2)
        left = Proc.leftovers(self.started_pgids)
        if left:
            problems.append(f"process groups still alive: {left}")
        if self.pg_database:
            try:
                self._pg_execute(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            except BenchSetupError as exc:
                problems.append(f"could not drop {self.pg_database}: {exc}")
        if self.redis_url:
            try:
                self._redis_release()
            except Exception as exc:  # cleanup reports, it never hides the run's result
                problems.append(f"could not flush {self.redis_url}: {exc}")
        if self.sqlite_path is not None:
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{self.sqlite_path}{suffix}").unlink()
        for log in self.workdir.glob("*.log"):
            log.unlink()
        with contextlib.suppress(OSError):
            self.workdir.rmdir()
        return problems
