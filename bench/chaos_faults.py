"""The faults `make chaos` injects, one at a time, into a running `make serve`.

Each injector returns when the fault is over (the process killed, Redis back, the stall
released) with the wall-clock time it ended; bench.chaos then waits for the platform to
recover and checks every operation (bench.chaos_check). Only this run's processes, its own
`redis-server` and the backends of its own database are touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos_clients import widget_socket, widget_subprotocols
from bench.procs import BenchSetupError
from bench.scale_platform import Platform
from bench.scale_stack import ScaleStack
from bench.session import ORIGIN, SESSION_PATH, session_headers

REDIS_STALL_S = 20.0
# The slow reader: a conversation of this many questions (and answers), asked for this many
# times by a client that reads none of it, watched this long (the server's bound is 10 s).
SLOW_READER_SEED = 20
SLOW_READER_SYNCS = 6000  # x up to 50 messages each: far more than the sockets' buffers hold
SLOW_READER_WAIT_S = 20.0


@dataclass
class FaultContext:
    stack: ScaleStack
    platform: Platform
    agent_id: str
    notes: dict[str, Any] = field(default_factory=dict)  # what the injector observed


Injector = Callable[[FaultContext], Awaitable[float]]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def celery_pids(platform: Platform, role: str) -> list[int]:
    """The Celery processes of `role` ("worker" or "beat") under supervisord."""
    return [
        pid
        for pid in platform.other_pids()
        if " -A config " in f" {cmdline(pid)} " and f" {role} " in f" {cmdline(pid)} "
    ]


def process_counts(platform: Platform) -> dict[str, int]:
    return {
        "web": len(platform.web_pids()),
        "worker": len(celery_pids(platform, "worker")),
        "beat": len(celery_pids(platform, "beat")),
    }


async def kill_web(ctx: FaultContext) -> float:
    """kill -9 one web process (its sockets drop; supervisord starts another)."""
    pid = ctx.platform.web_pids()[0]
    ctx.notes["sockets_on_it"] = ctx.platform.sockets_by_pid().get(pid, 0)
    os.kill(pid, signal.SIGKILL)
    return time.time()


async def kill_worker(ctx: FaultContext) -> float:
    """kill -9 the Celery worker while it answers. With the threads pool (make serve's) the
    worker is one process: there is no pool child apart from it to kill."""
    pids = celery_pids(ctx.platform, "worker")
    ctx.notes["killed"] = len(pids)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return time.time()


async def kill_beat(ctx: FaultContext) -> float:
    """kill -9 beat (the sweep for lost answers is one of its tasks)."""
    for pid in celery_pids(ctx.platform, "beat"):
        os.kill(pid, signal.SIGKILL)
    return time.time()


async def redis_restart_empty(ctx: FaultContext) -> float:
    """Redis killed (SIGKILL, no persistence) and started again empty on the same port."""
    stack = ctx.stack
    old = stack.redis
    if old is None:
        raise BenchSetupError("no redis-server of our own to restart")
    os.kill(old.popen.pid, signal.SIGKILL)
    old.popen.wait(timeout=10)
    await asyncio.sleep(2.0)  # down for a moment, as a host restart would be
    stack.redis = stack.spawn(f"redis-{int(time.time())}", old.argv, stack.env)
    await _until_redis_answers(stack.redis_port)
    return time.time()


async def redis_stall(ctx: FaultContext) -> float:
    """Redis SIGSTOP for REDIS_STALL_S, then SIGCONT: connections stay open, nothing answers."""
    redis = ctx.stack.redis
    if redis is None:
        raise BenchSetupError("no redis-server of our own to stall")
    os.kill(redis.popen.pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(REDIS_STALL_S)
    finally:
        os.kill(redis.popen.pid, signal.SIGCONT)
    return time.time()


async def pg_terminate(ctx: FaultContext) -> float:
    """pg_terminate_backend of every connection of the app (this run's database only)."""
    import psycopg

    sql = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with psycopg.connect(ctx.stack.env["DATABASE_URL"], autocommit=True) as db:
        row = db.execute(sql).fetchone()
    ctx.notes["terminated"] = int(row[0]) if row else 0
    return time.time()


async def slow_reader(ctx: FaultContext) -> float:
    """A widget with a long conversation that asks for it SLOW_READER_SYNCS times on a
    socket that reads nothing (a raw TCP socket with a 4 KiB receive buffer, set before it
    connects). The web process must not buffer without bound: it closes the socket once its
    send buffer stayed full for a while (config/ws_protocol.py). Records the web processes'
    RSS growth and whether the server ended the connection."""
    port = ctx.platform.port
    token = await _token(port, ctx.agent_id)
    # The visitor's other tab writes the conversation, reading as a widget does.
    async with await widget_socket(port, token) as tab:
        await _long_conversation(tab, SLOW_READER_SEED)
    rss_before = sum(ctx.platform.rss_by_pid().values())
    closed = await asyncio.to_thread(_never_reading, port, widget_subprotocols(token))
    ctx.notes["web_rss_growth_kib"] = sum(ctx.platform.rss_by_pid().values()) - rss_before
    ctx.notes["server_closed"] = closed
    return time.time()


def _never_reading(port: int, subprotocols: list[Any]) -> bool:
    """Open the widget socket, send the syncs, read nothing for SLOW_READER_WAIT_S; then
    drain: True if the server had ended the connection (EOF or reset) by then."""
    from websockets.client import ClientProtocol
    from websockets.typing import Origin
    from websockets.uri import parse_uri

    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    protocol = ClientProtocol(
        parse_uri(f"ws://127.0.0.1:{port}/ws/widget/"),
        origin=Origin(ORIGIN),
        subprotocols=subprotocols,
    )
    protocol.send_request(protocol.connect())
    raw.sendall(b"".join(protocol.data_to_send()))
    raw.settimeout(10)
    response = b""
    while b"\r\n\r\n" not in response:  # the handshake's answer, then not a byte more
        chunk = raw.recv(4096)
        if not chunk:
            return True
        response += chunk
    protocol.receive_data(response)
    protocol.events_received()
    raw.settimeout(0.5)
    frame = json.dumps({"type": "sync"})
    for _ in range(SLOW_READER_SYNCS):
        protocol.send_text(frame.encode())
    with contextlib.suppress(OSError):  # the server stops reading us too, in time
        raw.sendall(b"".join(protocol.data_to_send()))
    time.sleep(SLOW_READER_WAIT_S)
    raw.settimeout(5)
    try:
        while raw.recv(1 << 16):
            pass
        return True  # EOF: the server closed it
    except ConnectionResetError:
        return True  # aborted by the server
    except TimeoutError:
        return False  # still open and still sending
    finally:
        raw.close()


async def _long_conversation(ws: Any, count: int) -> None:
    """`count` questions, each waited for (ack and answer), read as a widget reads."""
    deadline = time.monotonic() + 60  # bounded whatever the answers do
    for number in range(count):
        client_id = f"slow-{number}"
        frame = {"type": "message.send", "clientId": client_id, "text": "Shipping?", "hp": ""}
        await ws.send(json.dumps(frame))
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                got = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if got.get("type") == "message" and got.get("role") == "agent":
                    break


async def _syncs(ws: Any, count: int) -> None:
    with contextlib.suppress(Exception):
        for _ in range(count):
            await ws.send(json.dumps({"type": "sync"}))


async def flood_while_stalled(ctx: FaultContext) -> float:
    """While Redis is stopped (SIGSTOP), FLOOD_SESSIONS session requests and FLOOD_SOCKETS
    widget sockets (with tokens issued before) arrive at once. Each must be refused in
    bounded time with the contract's answer (503, or a close code), and the web processes'
    memory must not grow with the flood."""
    redis = ctx.stack.redis
    if redis is None:
        raise BenchSetupError("no redis-server of our own to stall")
    port = ctx.platform.port
    tokens = [await _token(port, ctx.agent_id) for _ in range(FLOOD_SOCKETS)]
    rss_before = sum(ctx.platform.rss_by_pid().values())
    os.kill(redis.popen.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(_session_outcome(port, ctx.agent_id) for _ in range(FLOOD_SESSIONS)),
            *(_socket_outcome(port, token) for token in tokens),
        )
        ctx.notes["flood_s"] = round(time.monotonic() - started, 1)
        ctx.notes["web_rss_growth_kib"] = sum(ctx.platform.rss_by_pid().values()) - rss_before
        ctx.notes["outcomes"] = dict(Counter(outcomes).most_common())
        await asyncio.sleep(max(0.0, REDIS_STALL_S - (time.monotonic() - started)))
    finally:
        os.kill(redis.popen.pid, signal.SIGCONT)
    return time.time()


async def _token(port: int, agent_id: str) -> str:
    from bench.httpclient import HttpConnection

    http = HttpConnection("127.0.0.1", port, timeout=10)
    try:
        body = json.dumps({"agentId": agent_id, "url": f"{ORIGIN}/flood"}).encode()
        response = await http.request("POST", SESSION_PATH, body, session_headers())
    finally:
        await http.close()
    return str(response.json()["token"])


async def _session_outcome(port: int, agent_id: str) -> str:
    from bench.httpclient import HttpConnection

    http = HttpConnection("127.0.0.1", port, timeout=FLOOD_TIMEOUT_S)
    try:
        body = json.dumps({"agentId": agent_id, "url": f"{ORIGIN}/flood"}).encode()
        response = await http.request("POST", SESSION_PATH, body, session_headers())
        return f"session {response.status}"
    except (OSError, TimeoutError) as exc:
        return f"session {type(exc).__name__}"
    finally:
        await http.close()


async def _socket_outcome(port: int, token: str) -> str:
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    try:
        async with asyncio.timeout(FLOOD_TIMEOUT_S):
            ws = await widget_socket(port, token)
            try:
                frame = json.loads(await ws.recv())
                return f"socket {frame.get('type')}"
            except ConnectionClosed as exc:
                return f"socket closed {exc.rcvd.code if exc.rcvd else 1006}"
            finally:
                await ws.close()
    except TimeoutError:
        return f"socket no answer in {FLOOD_TIMEOUT_S:.0f} s"
    except (OSError, InvalidHandshake) as exc:
        return f"socket {type(exc).__name__}"


async def _until_redis_answers(port: int, timeout: float = 20.0) -> None:
    import redis

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client = redis.Redis(port=port, socket_connect_timeout=1)
        try:
            if client.ping():
                return
        except redis.RedisError:
            await asyncio.sleep(0.1)
        finally:
            client.close()
    raise BenchSetupError(f"redis-server did not answer on port {port} within {timeout:.0f} s")


# The flood while Redis is stalled: this many session requests and widget sockets at once,
# each given this long for an answer of any kind.
FLOOD_SESSIONS = 200
FLOOD_SOCKETS = 100
FLOOD_TIMEOUT_S = 40.0

# name -> (what it does, injector); in the order `make chaos` runs them.
FAULTS: dict[str, tuple[str, Injector]] = {
    "web-kill": ("kill -9 of one web process", kill_web),
    "worker-kill": ("kill -9 of the Celery worker", kill_worker),
    "beat-kill": ("kill -9 of Celery beat", kill_beat),
    "redis-restart": ("Redis killed and restarted empty", redis_restart_empty),
    "redis-stall": (f"Redis SIGSTOP for {REDIS_STALL_S:.0f} s, then SIGCONT", redis_stall),
    "flood-stalled": (
        "a flood of sessions and sockets while Redis is stalled",
        flood_while_stalled,
    ),
    "pg-terminate": ("pg_terminate_backend of every app connection", pg_terminate),
    "slow-reader": ("a client that never reads", slow_reader),
}
