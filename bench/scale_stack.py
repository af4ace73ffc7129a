"""The database and Redis `bench.scale` (and `make chaos`) serve the platform from.

`ScaleStack` creates a PostgreSQL database of its own (dropped at the end) on the server
of `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/`), starts a `redis-server`
of its own on a free port (stopped at the end; never the shared one), migrates and seeds the
demo workspace, and reads the work both have done (`service_counters`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.procs import BenchSetupError, Proc, cpu_seconds, free_port, run_manage
from bench.stack import AGENT_ID_CODE, LOCAL_HOSTS, TUNING_PREFIXES, bench_env, pg_execute

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass
class ScaleStack:
    """Created by `ScaleStack.create()`; `close()` undoes everything it made."""

    env: dict[str, str]
    workdir: Path
    pg_admin_url: str
    pid: int = field(default_factory=os.getpid)
    pg_database: str = ""
    redis: Proc | None = None
    redis_port: int = 0
    agent_id: str = ""
    procs: list[Proc] = field(default_factory=list)

    @classmethod
    def create(cls) -> ScaleStack:
        pid = os.getpid()
        base_url = os.environ.get("DATABASE_URL") or DEFAULT_PG_URL
        parts = urlsplit(base_url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise BenchSetupError("bench-scale needs PostgreSQL: DATABASE_URL=postgres://…")
        if (parts.hostname or "") not in LOCAL_HOSTS:
            raise BenchSetupError("DATABASE_URL must point at 127.0.0.1/localhost")
        env = bench_env(key_prefix=f"ca-scale-{pid}", drop=("PORT",))
        workdir = Path(tempfile.mkdtemp(prefix=f"ca-scale-{pid}-"))
        (workdir / "prometheus").mkdir()
        env.update(
            RATE_LIMITS_ENABLED="false",  # the load comes from a few loopback addresses
            PROMETHEUS_MULTIPROC_DIR=str(workdir / "prometheus"),  # several web processes
        )
        admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
        return cls(env=env, workdir=workdir, pg_admin_url=admin)

    @property
    def tuning(self) -> dict[str, str]:
        """Settings-relevant variables passed through from the caller (recorded)."""
        return {
            k: v
            for k, v in self.env.items()
            if k.startswith((*TUNING_PREFIXES, "WEB_", "UVICORN_")) and k != "DATABASE_URL"
        }

    def acquire(self) -> None:
        name = f"customeragent_scale_{self.pid}"
        self._pg_execute(f'CREATE DATABASE "{name}"')
        self.pg_database = name  # only now is it ours to drop
        parts = urlsplit(self.pg_admin_url)
        self.env["DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
        self._redis_start()
        self.env["REDIS_URL"] = f"redis://127.0.0.1:{self.redis_port}/0"

    def _pg_execute(self, sql: str) -> None:
        pg_execute(self.pg_admin_url, sql)

    def _redis_start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise BenchSetupError("redis-server is not installed (bench-scale starts its own)")
        self.redis_port = free_port()
        argv = [
            binary,
            "--port",
            str(self.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxclients",
            "10000",
        ]
        self.redis = self.spawn("redis", argv, self.env)
        deadline = time.monotonic() + 10
        import redis

        while time.monotonic() < deadline:
            if not self.redis.alive():
                raise BenchSetupError(f"redis-server exited:\n{self.redis.log_tail()}")
            client = redis.Redis(port=self.redis_port, socket_connect_timeout=1)
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
            finally:
                client.close()
        raise BenchSetupError("redis-server did not answer PING within 10 s")

    def prepare_app(self) -> None:
        run_manage(["migrate", "--noinput"], self.env)
        run_manage(["seed_demo"], self.env)
        out = run_manage(["shell", "-c", AGENT_ID_CODE], self.env).strip().splitlines()
        if not out or not out[-1].startswith("agt_"):
            raise BenchSetupError(f"could not read the demo agent id: {out!r}")
        self.agent_id = out[-1].strip()

    def service_counters(self) -> dict[str, float]:
        """Cumulative work done by this run's PostgreSQL database and Redis.

        PostgreSQL publishes a backend's counts when it goes idle (at most about a second
        late under load, up to ten once idle), so per-phase figures are close, not exact.
        `pg_cpu_s` is the CPU of the backends connected to the run's database now: the
        pools keep them, so a phase's difference is close too (a backend that left in
        between takes its share with it).
        """
        import psycopg
        import redis

        stats = (
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted "
            "FROM pg_stat_database WHERE datname = current_database()"
        )
        backends = (
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True, connect_timeout=5) as db:
            row = db.execute(stats).fetchone()
            pids = [int(r[0]) for r in db.execute(backends).fetchall()]
        client = redis.Redis(port=self.redis_port, socket_connect_timeout=3)
        try:
            commands = int(client.info("stats")["total_commands_processed"])
            cpu = client.info("cpu")
        finally:
            client.close()
        xacts, written = row if row else (0, 0)
        return {
            "pg_xacts": float(xacts),
            "pg_rows_written": float(written),
            "pg_cpu_s": sum(cpu_seconds(pid) or 0.0 for pid in pids),
            "redis_commands": commands,
            "redis_cpu_s": float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]),
        }

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, argv, env, self.workdir / f"{name}.log")
        self.procs.append(proc)
        return proc

    def close(self) -> list[str]:
        """Stop processes, drop the database, stop Redis; returns what went wrong."""
        problems: list[str] = []
        for proc in reversed(self.procs):
            if proc.alive() or Proc.leftovers([proc.pgid]):
                proc.stop()
        left = Proc.leftovers([p.pgid for p in self.procs])
        if left:
            problems.append(f"process groups still alive: {left}")
        if self.pg_database:
            try:
                self._pg_execute(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            except BenchSetupError as exc:
                problems.append(f"could not drop {self.pg_database}: {exc}")
        shutil.rmtree(self.workdir, ignore_errors=True)
        return problems
