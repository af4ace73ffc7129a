"""Many processes, one conversation: two web processes and two Celery workers.

The production shape in miniature, on the real PostgreSQL and Redis (this run's own
database and Redis db): a visitor with a tab on each web process sees, in both tabs, what
the other tab sent and the agent's answer (written by whichever worker took the task);
staff on the inbox of one process see the visitor's message and reply, and the reply
reaches both tabs. Services mode only: one process is all the embedded mode has.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from websockets.asyncio.client import ClientConnection, connect

from conftest import SITE_ORIGIN
from customers.sessions import session_token_issue
from security.ids import new_visitor_id
from security.tests.hostile.test_client_address import make_recipe_server_args
from widgets.tests.live import free_port
from widgets.tests.web_process import BIN, ROOT, services_env, wait_listening
from workspaces.models import Membership

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and "postgres" in os.environ.get("DATABASE_URL", "")),
        reason="several processes share one conversation through PostgreSQL and Redis",
    ),
]

FRAME_S = 20.0


@contextlib.contextmanager
def platform(webs: int = 2, workers: int = 2) -> Iterator[list[int]]:
    """`webs` uvicorn processes started as `make run` starts one, and `workers` Celery
    workers; yields the web ports once all answer."""
    env = services_env()
    ports = [free_port() for _ in range(webs)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            args = make_recipe_server_args("run", port)
            procs.append(subprocess.Popen([str(BIN / "uvicorn"), *args], cwd=ROOT, env=env))
        for n in range(workers):
            command = [str(BIN / "celery"), "-A", "config", "worker", "--pool=threads"]
            command += ["--concurrency=2", "--without-gossip", "--without-mingle"]
            command += ["--loglevel=WARNING", "-n", f"many-{os.getpid()}-{n}@%h"]
            procs.append(subprocess.Popen(command, cwd=ROOT, env=env))
        wait_listening(ports, procs)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


async def widget_tab(port: int, token: str) -> ClientConnection:
    ws = await connect(
        f"ws://127.0.0.1:{port}/ws/widget/",
        subprotocols=["customeragent.v2", f"auth.{token}"],  # type: ignore[list-item]
        origin=SITE_ORIGIN,  # type: ignore[arg-type]
        proxy=None,
        open_timeout=FRAME_S,
    )
    assert json.loads(await asyncio.wait_for(ws.recv(), FRAME_S))["type"] == "session.ready"
    return ws


async def inbox(port: int, cookie: str) -> ClientConnection:
    ws = await connect(
        f"ws://127.0.0.1:{port}/ws/inbox/",
        origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        proxy=None,
        open_timeout=FRAME_S,
    )
    assert json.loads(await asyncio.wait_for(ws.recv(), FRAME_S))["type"] == "inbox.ready"
    return ws


async def frame_where(ws: ClientConnection, wanted: Any) -> dict[str, Any]:
    """The first frame from `ws` for which `wanted(frame)` holds."""
    deadline = time.monotonic() + FRAME_S
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "the expected frame never came"
        frame = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        if wanted(frame):
            return dict(frame)


def test_one_conversation_across_two_web_processes_and_two_workers(agent: Any, owner: Any) -> None:
    assert Membership.objects.filter(user=owner, workspace=agent.workspace).exists()
    visitor = new_visitor_id()
    token = session_token_issue(agent_id=agent.public_id, visitor_id=visitor, origin=SITE_ORIGIN)
    staff = Client()
    staff.force_login(owner)
    cookie = str(staff.cookies[settings.SESSION_COOKIE_NAME].value)

    async def converse(first: int, second: int) -> None:
        tab_a = await widget_tab(first, token.token)  # the visitor's tab on one process
        tab_b = await widget_tab(second, token.token)  # and another tab on the other
        desk = await inbox(second, cookie)  # staff on the second process
        try:
            question = "How long does express shipping take?"
            await tab_a.send(
                json.dumps({"type": "message.send", "clientId": "q-1", "text": question})
            )
            ack = await frame_where(tab_a, lambda f: f["type"] == "message.ack")
            echo = await frame_where(
                tab_b, lambda f: f["type"] == "message" and f["role"] == "customer"
            )
            assert (echo["id"], echo["text"], echo["clientId"]) == (ack["id"], question, "q-1")
            seen = await frame_where(desk, lambda f: f["type"] == "message")
            assert seen["message"]["id"] == ack["id"]
            for tab in (tab_a, tab_b):
                answer = await frame_where(
                    tab, lambda f: f["type"] == "message" and f["role"] == "agent"
                )
                assert "1-2 business days" in answer["text"]

            await desk.send(
                json.dumps(
                    {
                        "type": "reply",
                        "conversationId": seen["conversationId"],
                        "text": "A person here: it ships today.",
                        "clientId": "s-1",
                        "ref": "r-1",
                    }
                )
            )
            done = await frame_where(desk, lambda f: f.get("ref") == "r-1")
            assert done["type"] == "done", done
            for tab in (tab_a, tab_b):
                reply = await frame_where(
                    tab, lambda f: f["type"] == "message" and f["role"] == "staff"
                )
                assert reply["text"] == "A person here: it ships today."
        finally:
            for ws in (tab_a, tab_b, desk):
                await ws.close()

    with platform() as (web_one, web_two):
        asyncio.run(converse(web_one, web_two))
