"""`make serve`: the production shape, started for real (PostgreSQL + Redis), and its config.

The live test runs `make serve` (2 web processes, 1 Celery worker, beat) on a free port
against this test run's own database and Redis db, as an operator would: a visitor's
session and websocket message get an answer; the client address is the socket peer even
through supervisord's shared socket; a web process killed with SIGKILL is replaced and
serves; SIGTERM leaves no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from websockets.asyncio.client import connect
from websockets.typing import Origin, Subprotocol

from agents.models import Agent
from config.serve import ServeConfigError, shape_from, supervisord_conf
from widgets.models import WidgetConfig
from widgets.tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "https://shop.example.com"
SESSION_LIMIT = 3
STARTUP_S = 90  # a cold start on a loaded 2-core machine; about 15 s when it is quiet
SERVICES = os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")
UVICORN = [".venv/bin/uvicorn", "config.asgi:application", "--no-proxy-headers"]
ENV = {"DATABASE_URL": "postgres://db/x", "REDIS_URL": "redis://r/1", "SECRET_KEY": "k" * 50}


# --- the shape, without starting it ---------------------------------------------------


def test_it_names_every_missing_variable() -> None:
    with pytest.raises(ServeConfigError, match="needs DATABASE_URL, SECRET_KEY"):
        shape_from({"REDIS_URL": "redis://r/1"}, [*UVICORN, "--port", "8000"])


def test_it_refuses_a_worker_count_that_is_not_a_number() -> None:
    with pytest.raises(ServeConfigError, match="WEB_WORKERS='two'"):
        shape_from({**ENV, "WEB_WORKERS": "two"}, [*UVICORN, "--port", "8000"])


def test_the_web_processes_share_one_socket_and_keep_the_servers_flags() -> None:
    shape = shape_from(
        {**ENV, "WEB_WORKERS": "3", "CELERY_WORKERS": "2"},
        [*UVICORN, "--host", "0.0.0.0", "--port=8123"],
    )
    conf = supervisord_conf(shape, Path("/run/x"), "/venv/bin/python")
    assert shape.web_command == [*UVICORN, "--fd", "0"]
    assert "socket=tcp://0.0.0.0:8123" in conf
    assert "numprocs=3" in conf and "numprocs=2" in conf
    assert conf.count("[program:beat]") == 1 and "numprocs" not in _section(conf, "beat")
    assert conf.count("stopasgroup=true") == conf.count("killasgroup=true") == 4
    assert "worker%(process_num)d@%%h" in conf  # Celery's %h survives supervisord


def test_workers_log_warnings_unless_told_and_refuse_an_unknown_level() -> None:
    quiet = supervisord_conf(shape_from(ENV, [*UVICORN, "--port", "8000"]), Path("/r"), "/py")
    assert "--loglevel=WARNING" in _section(quiet, "worker")
    assert "--without-gossip --without-mingle" in _section(quiet, "worker")
    told = shape_from({**ENV, "WORKER_LOG_LEVEL": "info"}, [*UVICORN, "--port", "8000"])
    assert "--loglevel=INFO" in _section(supervisord_conf(told, Path("/r"), "/py"), "worker")
    with pytest.raises(ServeConfigError, match="WORKER_LOG_LEVEL='LOUD'"):
        shape_from({**ENV, "WORKER_LOG_LEVEL": "loud"}, [*UVICORN, "--port", "8000"])


def _section(conf: str, name: str) -> str:
    return conf.split(f"[program:{name}]", 1)[1].split("\n[", 1)[0]


def test_make_serve_without_its_services_says_what_is_missing() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env = {k: v for k, v in env.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", "build", "serve"],  # noqa: S607
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "needs DATABASE_URL, REDIS_URL in the environment" in done.stderr
    assert "migrate" not in done.stdout  # nothing ran before the check


# --- the shape, running --------------------------------------------------------------


@pytest.fixture
def limited_agent(agent: Agent) -> Agent:
    WidgetConfig.objects.filter(agent=agent).update(rate_limits={"session_per_ip": SESSION_LIMIT})
    return agent


@pytest.fixture
def served(
    limited_agent: Agent, tmp_path: Path
) -> Iterator[tuple[int, str, subprocess.Popen[bytes]]]:
    """`make serve` on a free port and this run's database; yields (port, token, make)."""
    port = free_port()
    token = uuid.uuid4().hex  # in every process's environment: how we find them all
    parts = urlsplit(os.environ["DATABASE_URL"])
    database = urlunsplit((*parts[:2], f"/{connection.settings_dict['NAME']}", parts.query, ""))
    skip = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DATABASE_TEST_NAME", "RATE_LIMITS_ENABLED")
    env = {k: v for k, v in os.environ.items() if k not in skip and not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=database,
        PORT=str(port),
        WEB_WORKERS="2",
        CELERY_WORKERS="1",
        CELERY_THREADS="2",
        LOG_LEVEL="WARNING",
        SERVE_TEST_TOKEN=token,
    )
    log = (tmp_path / "serve.log").open("wb")
    make = subprocess.Popen(
        ["make", "--no-print-directory", "-o", "build", "serve"],  # noqa: S607
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait(lambda: _get(port, "/readyz") == 200, STARTUP_S, make, tmp_path)
        yield port, token, make
    finally:
        if make.poll() is None:
            make.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                make.wait(timeout=40)
        for pid in _processes_with(token):  # whatever a failure left: never orphans
            os.kill(pid, signal.SIGKILL)
        log.close()


@pytest.mark.skipif(not SERVICES, reason="make serve needs PostgreSQL and Redis")
@pytest.mark.django_db(transaction=True)
def test_make_serve_answers_restarts_a_killed_web_process_and_stops_cleanly(
    served: tuple[int, str, subprocess.Popen[bytes]], limited_agent: Agent
) -> None:
    port, token, make = served
    agent = limited_agent

    # A visitor: a session, a websocket, a question; the Celery worker answers.
    session = _post_session(port, agent, forwarded_for="203.0.113.1")
    assert session[0] == 200
    frames = asyncio.run(_ask(port, session[1]["token"], "How long does express shipping take?"))
    assert [f["type"] for f in frames][:2] == ["session.ready", "message.ack"]
    assert frames[-1]["type"] == "message" and frames[-1]["role"] == "agent"

    # Through supervisord's shared socket the peer is still the client: a rotating
    # X-Forwarded-For from loopback does not buy more sessions.
    statuses = [
        _post_session(port, agent, f"203.0.113.{i}")[0] for i in range(2, 2 + SESSION_LIMIT)
    ]
    assert statuses == [200] * (SESSION_LIMIT - 1) + [429]

    # One web process killed: supervisord starts another, and it serves on its own.
    first, second = _web_pids(token)
    os.kill(first, signal.SIGKILL)
    _wait(lambda: len(set(_web_pids(token)) - {first, second}) == 1, 30, make)
    (replacement,) = set(_web_pids(token)) - {second}
    os.kill(second, signal.SIGSTOP)  # now only the replacement accepts connections
    try:
        _wait(lambda: _get(port, "/healthz", timeout=2) == 200, 60, make)
    finally:
        os.kill(second, signal.SIGCONT)
    assert replacement in _web_pids(token)

    # SIGTERM to make stops everything it started.
    make.send_signal(signal.SIGTERM)
    assert make.wait(timeout=45) is not None
    assert _processes_with(token) == []


def _post_session(port: int, agent: Agent, forwarded_for: str) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(
            "POST",
            "/api/v2/widget/session",
            body=json.dumps({"agentId": agent.public_id}),
            headers={
                "Content-Type": "application/json",
                "Origin": ORIGIN,
                "X-Forwarded-For": forwarded_for,
            },
        )
        response = conn.getresponse()
        body = response.read()
        return response.status, json.loads(body) if response.status == 200 else {}
    finally:
        conn.close()


async def _ask(port: int, token: str, text: str) -> list[dict[str, Any]]:
    """Frames until the agent's answer (or 30 s)."""
    frames: list[dict[str, Any]] = []
    async with connect(
        f"ws://127.0.0.1:{port}/ws/widget/",
        subprotocols=[Subprotocol("customeragent.v2"), Subprotocol("auth." + token)],
        origin=Origin(ORIGIN),
        proxy=None,
        open_timeout=15,
    ) as ws:
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), 15)))
        await ws.send(json.dumps({"type": "message.send", "clientId": "c1", "text": text}))
        async with asyncio.timeout(30):
            while not (frames[-1]["type"] == "message" and frames[-1].get("role") == "agent"):
                frame = json.loads(await ws.recv())
                if frame["type"] in ("message.ack", "message"):
                    frames.append(frame)
    return frames


def _get(port: int, path: str, timeout: float = 5) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def _wait(
    done: Any, seconds: float, make: subprocess.Popen[bytes], logs: Path | None = None
) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if make.poll() is not None or time.monotonic() > deadline:
            tail = (logs / "serve.log").read_text(errors="replace")[-3000:] if logs else ""
            raise AssertionError(f"make serve: not ready (exit {make.poll()})\n{tail}")
        time.sleep(0.3)


def _processes_with(token: str) -> list[int]:
    """Live processes whose environment carries `token` (every one make serve started)."""
    found = []
    needle = f"SERVE_TEST_TOKEN={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def _web_pids(token: str) -> list[int]:
    """The web processes: uvicorn given supervisord's socket as fd 0."""
    pids = []
    for pid in _processes_with(token):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"/uvicorn") for a in argv) and b"--fd" in argv:
            pids.append(pid)
    return sorted(pids)
