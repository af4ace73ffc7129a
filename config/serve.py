"""`make serve`: the production shape on one machine, under supervisord in the foreground.

    python -m config.serve --check      # the environment only (before the build)
    python -m config.serve --prepare    # migrate, register the widget build, collectstatic
    python -m config.serve -- <web server command with --host HOST --port PORT>

supervisord (the `supervisor` package) holds the listening socket on HOST:PORT and runs
WEB_WORKERS copies of the web command on it (`--fd 0` in place of --host/--port: uvicorn's
documented way under supervisord), CELERY_WORKERS Celery workers (threads pool,
CELERY_THREADS each) and exactly one beat. Every process logs to stdout. One that dies is
started again at once; one that dies again within START_SECONDS is retried after 1 s, 2 s,
3 s… and after START_RETRIES tries `make serve` stops everything and exits 1 (see
config.serve_events), so a crash loop neither spins nor leaves a half-served port.
SIGTERM or Ctrl-C stops every process (each runs in its own process group, stopped as a
group; whatever outlives its grace period is killed) and removes the run's directory.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

REQUIRED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
# A process that lives this long has started; one dying sooner is retried with backoff
# (generous: a web process takes seconds to import Django on a busy machine).
START_SECONDS = 30
START_RETRIES = 5
WEB_STOP_SECONDS = 15  # open websockets are closed (1012) and requests finish
WORKER_STOP_SECONDS = 30  # Celery's warm shutdown lets running tasks finish
FATAL_MARK = "fatal"  # written into the run directory by config.serve_events


class ServeConfigError(Exception):
    """The environment or the command line cannot be served; the message says why."""


@dataclass(frozen=True)
class ServeShape:
    host: str
    port: int
    web_command: list[str]  # without --host/--port: it is given the socket as fd 0
    web_workers: int
    celery_workers: int
    celery_threads: int
    # Celery's INFO logs two lines per task ("received", "succeeded"): at 100 answers a
    # second about 5 % of a worker's CPU. WARNING keeps failures and retries.
    celery_log_level: str = "WARNING"


def _count(environ: dict[str, str], name: str, default: int) -> int:
    value = environ.get(name) or str(default)
    if not value.isdigit() or int(value) < 1:
        raise ServeConfigError(f"Unexpected value {name}={value!r}, use a whole number >= 1")
    return int(value)


def env_check(environ: dict[str, str]) -> None:
    """Raises ServeConfigError naming what the environment lacks or has wrong."""
    missing = [name for name in REQUIRED if not environ.get(name)]
    if missing:
        raise ServeConfigError(
            f"needs {', '.join(missing)} in the environment "
            "(the production shape: PostgreSQL, Redis and a key of your own; "
            "docs/operations.md). `make run` is the demo that needs none."
        )
    for name, default in (("WEB_WORKERS", 2), ("CELERY_WORKERS", 1), ("CELERY_THREADS", 8)):
        _count(environ, name, default)


def shape_from(environ: dict[str, str], command: list[str]) -> ServeShape:
    """What to run, from the environment and the web command; raises ServeConfigError."""
    env_check(environ)
    web, bind = _split_bind(command)
    if not web:
        raise ServeConfigError("no web server command after `--`")
    port = bind.get("--port", "")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ServeConfigError(f"Unexpected value PORT={port!r}, use a TCP port number")
    return ServeShape(
        host=bind.get("--host", "127.0.0.1"),
        port=int(port),
        web_command=[*web, "--fd", "0"],
        web_workers=_count(environ, "WEB_WORKERS", 2),
        celery_workers=_count(environ, "CELERY_WORKERS", 1),
        celery_threads=_count(environ, "CELERY_THREADS", 8),
        celery_log_level=_log_level(environ),
    )


def _log_level(environ: dict[str, str]) -> str:
    # Not CELERY_LOG_LEVEL: Celery itself sets that one, to a number, in its processes.
    value = (environ.get("WORKER_LOG_LEVEL") or "WARNING").upper()
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ServeConfigError(
            f"Unexpected value WORKER_LOG_LEVEL={value!r}, use DEBUG, INFO, WARNING or ERROR"
        )
    return value


def _split_bind(command: list[str]) -> tuple[list[str], dict[str, str]]:
    rest: list[str] = []
    bind: dict[str, str] = {}
    words = iter(command)
    for word in words:
        name, _, value = word.partition("=")
        if name in ("--host", "--port"):
            bind[name] = value or next(words, "")
        else:
            rest.append(word)
    return rest, bind


def _program(name: str, command: list[str], **options: str | int) -> str:
    settings = {
        "command": shlex.join(command)
        .replace("%", "%%")
        .replace("%%(process_num)", "%(process_num)"),
        "autostart": "true",
        "autorestart": "true",
        "startsecs": START_SECONDS,
        "startretries": START_RETRIES,
        "stopsignal": "TERM",
        "stopasgroup": "true",
        "killasgroup": "true",
        "redirect_stderr": "true",
        "stdout_logfile": "/dev/stdout",
        "stdout_logfile_maxbytes": 0,
        **options,
    }
    return f"[{name}]\n" + "".join(f"{key}={value}\n" for key, value in settings.items())


def supervisord_conf(shape: ServeShape, run_dir: Path, python: str) -> str:
    """supervisord's configuration for this shape; its files live in `run_dir`."""
    celery = str(Path(python).with_name("celery"))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Every websocket is a file descriptor: raise the soft limit as far as allowed.
    open_files = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    worker = [celery, "-A", "config", "worker", f"--loglevel={shape.celery_log_level}"]
    worker += ["--pool=threads", f"--concurrency={shape.celery_threads}"]
    # Gossip and mingle only chatter between workers (the Makefile's CELERY_WORKER_FLAGS).
    worker += ["--without-gossip", "--without-mingle", "-n", "worker%(process_num)d@%h"]
    beat = [celery, "-A", "config", "beat", "--loglevel=INFO"]
    beat += ["--schedule", str(run_dir / "beat-schedule")]
    events = [python, "-m", "config.serve_events", str(run_dir)]
    parts = [
        # In the foreground supervisord logs to stdout by itself: no log file besides. As
        # root it says so at CRIT level unless told (user=root); it stays root either way.
        "[supervisord]\n"
        "nodaemon=true\n"
        "logfile=/dev/null\n"
        "logfile_maxbytes=0\n"
        "loglevel=info\n"
        f"pidfile={run_dir / 'supervisord.pid'}\n"
        f"childlogdir={run_dir}\n"
        f"minfds={open_files}\n" + ("user=root\n" if os.geteuid() == 0 else ""),
        _program(
            "fcgi-program:web",
            shape.web_command,
            socket=f"tcp://{shape.host}:{shape.port}",
            socket_backlog=2048,
            numprocs=shape.web_workers,
            process_name="web-%(process_num)d",
            stopwaitsecs=WEB_STOP_SECONDS,
        ),
        _program(
            "program:worker",
            worker,
            numprocs=shape.celery_workers,
            process_name="worker-%(process_num)d",
            stopwaitsecs=WORKER_STOP_SECONDS,
        ),
        _program("program:beat", beat, stopwaitsecs=10),
        _program(
            "eventlistener:events",
            events,
            events="PROCESS_STATE_EXITED,PROCESS_STATE_FATAL",
            redirect_stderr="false",
            stdout_logfile="NONE",
            stderr_logfile="/dev/stderr",
            stderr_logfile_maxbytes=0,
        ),
    ]
    return "\n".join(parts)


def _prometheus_dir(run_dir: Path) -> str:
    """The web processes share /metrics through this directory (prometheus_client)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = Path(given) if given else run_dir / "prometheus"
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # a previous run's figures are not this run's
        stale.unlink()
    return str(path)


def prepare() -> None:
    """Release steps, in one process: migrate, register the widget build, collect static
    files (WhiteNoise serves them from STATIC_ROOT when DEBUG is off)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False)
    call_command("widget_core_register")
    call_command("collectstatic", interactive=False, verbosity=0)


def main(argv: list[str]) -> int:
    from django.core.exceptions import ImproperlyConfigured

    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    try:
        if argv[:1] == ["--check"]:
            env_check(dict(os.environ))
            return 0
        if argv[:1] == ["--prepare"]:
            prepare()
            return 0
        shape = shape_from(dict(os.environ), command)
    except (ServeConfigError, ImproperlyConfigured) as exc:
        print(f"make serve: {exc}", file=sys.stderr)
        return 2
    run_dir = Path(tempfile.mkdtemp(prefix="customeragent-serve-"))
    try:
        conf = run_dir / "supervisord.conf"
        conf.write_text(supervisord_conf(shape, run_dir, sys.executable))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env["PROMETHEUS_MULTIPROC_DIR"] = _prometheus_dir(run_dir)
        print(
            f"make serve: http://{shape.host}:{shape.port}/ (HTTP and /ws/), "
            f"{shape.web_workers} web, {shape.celery_workers} Celery worker(s) "
            f"x {shape.celery_threads} threads, 1 beat; supervisorctl -c {conf} status",
            flush=True,
        )
        return _supervise(conf, env, run_dir)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _supervise(conf: Path, env: dict[str, str], run_dir: Path) -> int:
    supervisord = str(Path(sys.executable).with_name("supervisord"))
    child = subprocess.Popen([supervisord, "-n", "-c", str(conf)], env=env)  # noqa: S603

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    # Ctrl-C reaches supervisord from the terminal too; it stops its processes and exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code = child.wait()
    fatal = run_dir / FATAL_MARK
    if fatal.exists():
        print(f"make serve: stopped: {fatal.read_text().strip()}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
