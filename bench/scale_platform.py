"""The platform `bench.scale` loads: its own database and Redis, served the production way.

`ScaleStack` creates a PostgreSQL database of its own (dropped at the end) on the server
of `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/`), starts a `redis-server`
of its own on a free port (stopped at the end; never the shared one), migrates and seeds the
demo workspace. `platform_start` then serves the product or the floor (bench.floor) in the
same shape: the command `make serve` ends with (`python -m config.serve -- <web server>`,
read from `make -n serve`, so it follows the Makefile; its build, migrate and collectstatic
steps are left out: the bench migrated its own database and serves no static files), the
floor with its ASGI app and settings swapped in. Without a `serve` target it starts the
same shape itself (`uvicorn --workers WEB_WORKERS`, CELERY_WORKERS workers, one beat).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.procs import (
    ROOT,
    VENV_BIN,
    BenchSetupError,
    Proc,
    cpu_seconds,
    free_port,
    run_manage,
)
from bench.scale_ledger import tcp_inodes, vmrss_kib
from bench.stack import AGENT_ID_CODE, LOCAL_HOSTS, TUNING_PREFIXES, bench_env, pg_execute

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PRODUCT_APP = "config.asgi:application"
FLOOR_APP = "bench.floor.asgi:application"
FLOOR_SETTINGS = "bench.floor.settings"
# The server as the Makefile's WEB_SERVER starts it (see the Makefile for the reasons).
UVICORN_FLAGS = ["--no-proxy-headers", "--ws-max-size", "65536", "--lifespan", "off"]
STOP_GRACE_S = 45.0  # make serve lets websockets close and Celery tasks finish (config.serve)


SERVE_LINE = re.compile(r"(^|\s)-m config\.serve -- ")


def serve_command(port: int, web_workers: int, celery_workers: int) -> list[str] | None:
    """The last step of `make serve` for this shape (`VAR=value ... python -m config.serve
    -- <web server>`), as `make -n` prints it; None without a `serve` target."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv
            [  # noqa: S607 - make from PATH, as a person runs it
                "make",
                "-n",
                "--no-print-directory",
                "serve",
                f"PORT={port}",
                f"WEB_WORKERS={web_workers}",
                f"CELERY_WORKERS={celery_workers}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line for line in done.stdout.splitlines() if SERVE_LINE.search(line)]
    return shlex.split(lines[-1]) if done.returncode == 0 and lines else None


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


@dataclass
class Platform:
    """One served target (the product or the floor): its processes and its port."""

    target: str
    port: int
    procs: list[Proc]
    web_root: Proc  # the process whose descendants serve HTTP and /ws/
    shape: str
    argv: list[str]
    startup_s: float

    def tree(self) -> list[int]:
        """Every live process started for this target, children included."""
        roots = [p.popen.pid for p in self.procs]
        return _descendants(roots)

    def web_pids(self) -> list[int]:
        """The web processes: those holding the listening socket, less a supervisor that
        only hands it on to its children (uvicorn --workers)."""
        listening, _ = tcp_inodes(_proc_net_tcp(), self.port)
        tree = _descendants([self.web_root.popen.pid])
        holders = {pid for pid in tree if _inodes(pid) & listening}
        parents = {_parent(pid) for pid in holders}
        return sorted(pid for pid in holders if pid not in parents)

    def other_pids(self) -> list[int]:
        web = set(self.web_pids())
        return [pid for pid in self.tree() if pid not in web]

    def sockets_by_pid(self) -> dict[int, int]:
        """Established connections each web process holds on the served port."""
        _, established = tcp_inodes(_proc_net_tcp(), self.port)
        return {pid: len(_inodes(pid) & established) for pid in self.web_pids()}

    def rss_by_pid(self) -> dict[int, int]:
        rss: dict[int, int] = {}
        for pid in self.web_pids():
            with contextlib.suppress(OSError):
                value = vmrss_kib(Path(f"/proc/{pid}/status").read_text())
                if value is not None:
                    rss[pid] = value
        return rss

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the web processes and of the rest (Celery, beat)."""
        return {
            "web": sum(cpu_seconds(pid) or 0.0 for pid in self.web_pids()),
            "other": sum(cpu_seconds(pid) or 0.0 for pid in self.other_pids()),
        }

    def run_queue_wait(self) -> float:
        """Seconds the web processes' threads have spent ready to run but waiting for a CPU
        (/proc/<pid>/task/<tid>/schedstat): on a shared machine, the others' share."""
        waited_ns = 0
        for pid in self.web_pids():
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    with contextlib.suppress(OSError, IndexError, ValueError):
                        waited_ns += int((task / "schedstat").read_text().split()[1])
        return waited_ns / 1e9

    def alive(self) -> bool:
        return all(p.alive() for p in self.procs)

    def log_problems(self) -> list[str]:
        return [f"{p.name}: {line}" for p in self.procs for line in p.log_problems()][:30]

    def stop(self) -> None:
        """Stop every process; children a supervisor put in groups of their own too."""
        tree = self.tree()
        for proc in reversed(self.procs):
            proc.stop(grace=STOP_GRACE_S)
        for pid in tree:
            if Path(f"/proc/{pid}").exists():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


async def platform_start(
    stack: ScaleStack, *, target: str, web_workers: int, celery_workers: int
) -> Platform:
    """Serve `target` ("product" or "floor") in the production shape on a free port.

    Waits without blocking the event loop, so Ctrl-C during start-up stops the run at once.
    """
    port = free_port()
    env = {**stack.env, "PORT": str(port)}
    if target == "floor":
        env["DJANGO_SETTINGS_MODULE"] = FLOOR_SETTINGS
    started = time.monotonic()
    # The floor runs the same shape, Celery worker and beat included (idle: nothing to answer).
    served = serve_command(port, web_workers, celery_workers)
    if served is not None:
        platform = _served(stack, env, port, target, served)
    else:
        platform = _same_shape(stack, env, port, target, web_workers, celery_workers)
    try:
        await _wait_for(platform, lambda: _healthy(port), 90, "answered /healthz")
        await _wait_for(
            platform, lambda: len(platform.web_pids()) >= web_workers, 30, "all started"
        )
    except BaseException:
        platform.stop()
        raise
    platform.startup_s = round(time.monotonic() - started, 2)
    return platform


def _served(
    stack: ScaleStack, env: dict[str, str], port: int, target: str, command: list[str]
) -> Platform:
    """`make serve`'s own last step: its VAR=value prefix into the environment, the floor's
    app in place of the product's."""
    env = dict(env)
    while command and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", command[0]):
        name, _, value = command.pop(0).partition("=")
        env[name] = value
    if target == "floor":
        command = [FLOOR_APP if word == PRODUCT_APP else word for word in command]
    argv = [str(ROOT / word) if word.startswith(".venv/") else word for word in command]
    proc = stack.spawn(f"{target}-serve", argv, env)
    shape = (
        f"make serve (WEB_WORKERS={env.get('WEB_WORKERS')}, "
        f"CELERY_WORKERS={env.get('CELERY_WORKERS')})"
    )
    return Platform(target, port, [proc], proc, shape, command, 0.0)


def _same_shape(
    stack: ScaleStack,
    env: dict[str, str],
    port: int,
    target: str,
    web_workers: int,
    celery_workers: int,
) -> Platform:
    """`make serve`'s shape, started here: uvicorn with N workers, Celery workers, beat."""
    app = FLOOR_APP if target == "floor" else PRODUCT_APP
    argv = [
        str(VENV_BIN / "uvicorn"),
        app,
        *UVICORN_FLAGS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(web_workers),
        "--log-level",
        "warning",
    ]
    procs = [stack.spawn(f"{target}-web", argv, env)]
    for number in range(celery_workers):
        worker = [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "--loglevel=warning",
            "-n",
            f"scale{stack.pid}-{number}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        procs.append(stack.spawn(f"{target}-celery-{number}", worker, env))
    if celery_workers:
        beat = [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel=warning",
            "--schedule",
            str(stack.workdir / "beat-schedule"),
        ]
        procs.append(stack.spawn(f"{target}-beat", beat, env))
    shape = f"uvicorn --workers {web_workers}" + (
        f" + {celery_workers} Celery worker(s) (threads, 4) + beat" if celery_workers else ""
    )
    shown = [a.rsplit("/", 1)[-1] if a.startswith("/") else a for a in argv]
    return Platform(target, port, procs, procs[0], shape, shown, 0.0)


async def _wait_for(
    platform: Platform, done: Callable[[], bool], timeout: float, what: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not platform.alive():
            tails = "\n".join(p.log_tail() for p in platform.procs if not p.alive())
            raise BenchSetupError(f"{platform.target}: a process exited early:\n{tails}")
        if done():
            return
        await asyncio.sleep(0.2)
    raise BenchSetupError(f"{platform.target}: the web processes never {what} ({timeout:.0f}s)")


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz", headers={"Host": f"127.0.0.1:{port}"})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _descendants(roots: list[int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(stat[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = [pid for pid in roots if Path(f"/proc/{pid}").exists()]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _inodes(pid: int) -> set[str]:
    """Socket inodes among a process's open files."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    found.add(target[8:-1])
    return found


def _proc_net_tcp() -> str:
    return Path("/proc/net/tcp").read_text()


def git_revision() -> str:
    """The commit the run measured, marked `+dirty` when the tree has changes."""
    try:
        rev = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return rev + ("+dirty" if dirty else "")


def _git(*args: str) -> str:
    command = ["git", *args]
    return subprocess.run(  # noqa: S603  (fixed git arguments)
        command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=5
    ).stdout.strip()
