"""Serving a `bench.scale` target on its ScaleStack (bench.scale_stack) the production way.

`platform_start` serves the product or the floor (bench.floor) in the same shape: the
command `make serve` ends with (`python -m config.serve -- <web server>`, read from
`make -n serve`, so it follows the Makefile; its build, migrate and collectstatic steps are
left out: the bench migrated its own database and serves no static files), the floor with
its ASGI app and settings swapped in. Without a `serve` target it starts the same shape
itself (`uvicorn --workers WEB_WORKERS`, CELERY_WORKERS workers, one beat). `git_revision`
names the commit served.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import shlex
import subprocess
import time
from collections.abc import Callable

from bench.procs import ROOT, VENV_BIN, BenchSetupError, free_port
from bench.scale_platform import Platform
from bench.scale_stack import ScaleStack

PRODUCT_APP = "config.asgi:application"
FLOOR_APP = "bench.floor.asgi:application"
FLOOR_SETTINGS = "bench.floor.settings"
# The server as the Makefile's WEB_SERVER starts it (see the Makefile for the reasons).
UVICORN_FLAGS = ["--no-proxy-headers", "--ws-max-size", "65536", "--lifespan", "off"]


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
