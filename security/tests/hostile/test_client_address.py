"""The attacker rotates `X-Forwarded-For` from loopback to dodge the per-IP limits.

Against a real uvicorn started with the very arguments `make run` gives it (read from the
Makefile's recipe, parsed by uvicorn's own command line): the peer is the client unless
TRUSTED_PROXIES names it. And every server command we ship or document says so.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import uvicorn
import yaml

from agents.models import Agent
from security.tests.hostile.conftest import SITE_A
from widgets.models import WidgetConfig
from widgets.tests.live import free_port

ROOT = Path(__file__).resolve().parents[3]
LIMIT = 5
# The make targets that serve the platform; each is held to what `run` is. `serve` hands
# its uvicorn command line to supervisord (config.serve), which runs it on a socket it
# holds (`--fd 0` for --host/--port): the flags tested here are the ones it runs with.
SERVING_TARGETS = ["run", "serve"]
SHELL_SEPARATORS = {"&", "&&", ";", "|", "||"}


def make_recipe_server_args(target: str, port: int) -> list[str]:
    """uvicorn's arguments in `make <target>`'s recipe. `make -n` prints and runs nothing;
    `-o build` leaves out the build it depends on."""
    # A parent make (`make test`) must not hand this one its flags or jobserver.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    make = shutil.which("make")
    assert make, "the test reads `make run`'s command from make itself"
    printed = subprocess.run(
        [make, "--no-print-directory", "-n", "-o", "build", target, f"PORT={port}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.replace("\\\n", " ")
    for line in printed.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True  # words as the shell splits them, `&` and `;` apart
        words = list(lexer)
        for i, word in enumerate(words):
            if word.endswith("/uvicorn") or word == "uvicorn":
                args = words[i + 1 :]
                end = next((j for j, w in enumerate(args) if w in SHELL_SEPARATORS), len(args))
                return args[:end]
    raise AssertionError(f"`make {target}` starts no uvicorn:\n{printed}")


@contextmanager
def served_like(target: str) -> Iterator[int]:
    """uvicorn's own CLI entry point run with the recipe's arguments (in a thread, so it
    shares this test's database); yields the port."""
    with served_like_with_servers(target) as (port, _servers):
        yield port


@contextmanager
def served_like_with_servers(target: str) -> Iterator[tuple[int, list[uvicorn.Server]]]:
    """`served_like`, yielding the running uvicorn servers too (to inspect their state)."""
    port = free_port()
    args = make_recipe_server_args(target, port)
    cli = importlib.import_module("uvicorn.main")
    servers: list[uvicorn.Server] = []

    class RecordedServer(uvicorn.Server):
        def __init__(self, config: uvicorn.Config) -> None:
            super().__init__(config)
            servers.append(self)

    with mock.patch.object(cli, "Server", RecordedServer):
        thread = threading.Thread(
            target=cli.main.main, kwargs={"args": args, "standalone_mode": False}, daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 30
        while not (servers and servers[0].started):
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"uvicorn {' '.join(args)} did not start")
            time.sleep(0.05)
    try:
        yield port, servers
    finally:
        servers[0].should_exit = True
        thread.join(timeout=10)


def session_start(port: int, agent: Agent, forwarded_for: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/api/v2/widget/session",
            body=json.dumps({"agentId": agent.public_id}),
            headers={
                "Content-Type": "application/json",
                "Origin": SITE_A,
                "X-Forwarded-For": forwarded_for,
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def limited_agent(agent_a: Agent) -> Agent:
    WidgetConfig.objects.filter(agent=agent_a).update(rate_limits={"session_per_ip": LIMIT})
    return agent_a


@pytest.mark.parametrize("target", SERVING_TARGETS)
@pytest.mark.django_db(transaction=True)
def test_a_rotating_forwarded_header_from_loopback_does_not_dodge_the_limit(
    limited_agent: Agent, settings: Any, target: str
) -> None:
    settings.RATE_LIMITS_ENABLED = True
    settings.TRUSTED_PROXIES = []
    with served_like(target) as port:
        statuses = [session_start(port, limited_agent, f"203.0.113.{i}") for i in range(1, 41)]
    assert statuses[:LIMIT] == [200] * LIMIT
    assert set(statuses[LIMIT:]) == {429}  # one client, 127.0.0.1, whatever it claims


@pytest.mark.parametrize("target", SERVING_TARGETS)
@pytest.mark.django_db(transaction=True)
def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(
    limited_agent: Agent, settings: Any, target: str
) -> None:
    settings.RATE_LIMITS_ENABLED = True
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    with served_like(target) as port:
        first = [session_start(port, limited_agent, "198.51.100.1") for _ in range(LIMIT + 1)]
        other = session_start(port, limited_agent, "198.51.100.2")
    assert first == [200] * LIMIT + [429]
    assert other == 200  # another visitor behind the same proxy has a budget of its own


# --- every server command we ship or document -----------------------------------------

SERVER_WORD = re.compile(r"(?:^|[\s`\"'/(])(uvicorn|gunicorn|hypercorn)\s+([^`\n]*)")
APP_ARGUMENT = re.compile(r"(?:^|\s)[\w.]+:\w+(?:\s|$)")  # config.asgi:application


def command_lines(path: Path) -> Iterator[str]:
    """The lines of a file that may hold a command; a compose file's commands as YAML
    reads them (folded), the rest with backslash continuations joined."""
    text = path.read_text()
    if path.suffix in (".yml", ".yaml"):
        for service in (yaml.safe_load(text).get("services") or {}).values():
            command = (service or {}).get("command") or ""
            yield " ".join(command) if isinstance(command, list) else str(command)
        return
    for line in text.replace("\\\n", " ").splitlines():
        yield line.replace('", "', " ").replace('["', " ").replace('"]', " ")


def server_commands() -> Iterator[tuple[str, str, str]]:
    """(file, server, command) for every command line that starts an ASGI server."""
    paths = [ROOT / "Makefile", ROOT / "Dockerfile", ROOT / "docker-compose.yml"]
    paths += [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for path in paths:
        for line in command_lines(path):
            for match in SERVER_WORD.finditer(line):
                server, rest = match.groups()
                if APP_ARGUMENT.search(rest):
                    yield str(path.relative_to(ROOT)), server, f"{server} {rest.strip()}"


def test_every_server_command_leaves_the_client_address_to_trusted_proxies() -> None:
    commands = list(server_commands())
    files = {file for file, _, _ in commands}
    assert {"Makefile", "Dockerfile", "docker-compose.yml", "README.md"} <= files
    assert "docs/operations.md" in files
    wrong = [
        f"{file}: {command}"
        for file, server, command in commands
        if server != "uvicorn"  # teach this test what turns that server's proxy headers off
        or "--no-proxy-headers" not in command.split()
        or "--forwarded-allow-ips" in command
    ]
    assert not wrong, "run uvicorn with --no-proxy-headers:\n" + "\n".join(wrong)
