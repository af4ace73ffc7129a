"""The two sites the widget bench's browser visits, as child processes of its stack.

The platform runs as deployed (uvicorn, `DEBUG=false`, static files collected with their
gzip variants into the bench's temporary STATIC_ROOT, see `platform_application`), next to
the demo customer site (`manage.py serve_demo`, another origin).
"""

from __future__ import annotations

import http.client
import os
import shutil
import time
from pathlib import Path
from typing import Any

from bench.procs import VENV_BIN, BenchSetupError, Proc, free_port, wait_healthy
from bench.stack import Stack

STATIC_ROOT_ENV = "CA_BENCH_STATIC_ROOT"


def platform_application() -> Any:
    """`uvicorn --factory bench.widget_sites:platform_application`: the project's ASGI app
    with STATIC_ROOT moved to the bench's temporary directory, filled by collectstatic
    first (the content-hashed core and its .gz, as the Dockerfile's collectstatic makes)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    settings.STATIC_ROOT = Path(os.environ[STATIC_ROOT_ENV])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    from config.asgi import application

    return application


def _wait_http(proc: Proc, port: int, path: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise BenchSetupError(f"{proc.name} exited early:\n{proc.log_tail()}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise BenchSetupError(f"{proc.name} did not answer on :{port}:\n{proc.log_tail()}")


class Sites:
    """The platform and the demo site as child processes of the bench's stack."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.static_root = stack.workdir / "static"
        self.platform: Proc | None = None
        self.demo: Proc | None = None
        self.platform_port = 0
        self.demo_port = 0
        self.startup_s: float | None = None

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, argv, env, self.stack.workdir / f"{name}.log")
        self.stack.started_pgids.append(proc.pgid)
        return proc

    def start(self) -> None:
        self.platform_port = free_port()
        argv = [
            str(VENV_BIN / "uvicorn"),
            "bench.widget_sites:platform_application",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.platform_port),
            "--log-level",
            "warning",
            "--lifespan",
            "off",
        ]
        env = {**self.stack.env, STATIC_ROOT_ENV: str(self.static_root)}
        self.platform = self._spawn("uvicorn-widget", argv, env)
        self.startup_s = round(wait_healthy(self.platform, self.platform_port), 2)
        self.demo_port = free_port()
        demo_env = {**self.stack.env, "PUBLIC_BASE_URL": self.platform_url}
        self.demo = self._spawn(
            "serve_demo",
            [str(VENV_BIN / "python"), "manage.py", "serve_demo", "--port", str(self.demo_port)],
            demo_env,
        )
        _wait_http(self.demo, self.demo_port, "/")

    @property
    def platform_url(self) -> str:
        return f"http://localhost:{self.platform_port}"

    @property
    def demo_url(self) -> str:
        return f"http://127.0.0.1:{self.demo_port}/"

    def stop(self) -> list[str]:
        problems = []
        for proc in (self.demo, self.platform):
            if proc is not None:
                problems += [f"{proc.name}: {p}" for p in proc.log_problems()[:20]]
                proc.stop()
        shutil.rmtree(self.static_root, ignore_errors=True)
        return problems
