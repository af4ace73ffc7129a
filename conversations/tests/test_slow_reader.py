"""A widget client that stops reading cannot make the server hold memory without bound.

Against a real uvicorn started with the arguments `make run` gives it (so WEB_SERVER's
websocket protocol is the one tested), a raw socket with a tiny receive buffer asks for a
long history over and over and never reads the answers. The server's buffer for it stops
at the transport's high-water mark; once it has stayed full for SLOW_READER_SECONDS the
server closes the socket with 4429, and the connection is gone for good a few seconds
later even though the client still reads nothing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from config import ws_protocol
from conftest import SITE_ORIGIN
from conversations.models import Conversation, Message
from customers.sessions import session_token_issue
from security.ids import new_visitor_id
from security.tests.hostile.test_client_address import served_like_with_servers
from widgets.models import WidgetConfig

pytestmark = pytest.mark.django_db(transaction=True)

HISTORY = 300  # messages of ~3,500 characters: about 1 MB per replay
BUFFER_BOUND = 256 * 1024  # the high-water mark (64 KiB) plus a page of frames, generously


def client_frame(payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    if len(data) < 126:
        header = struct.pack("!BB", 0x81, 0x80 | len(data))
    else:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, len(data))
    return header + mask + masked


def open_raw_socket(port: int, token: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /ws/widget/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: customeragent.v2, auth.{token}\r\n"
            f"Origin: {SITE_ORIGIN}\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)  # the handshake only, byte by byte: nothing more is read
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def server_frames(data: bytes) -> Iterator[tuple[int, bytes]]:
    at = 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            (length,) = struct.unpack("!H", data[at : at + 2])
            at += 2
        elif length == 127:
            (length,) = struct.unpack("!Q", data[at : at + 8])
            at += 8
        if at + length > len(data):
            return
        yield opcode, data[at : at + length]
        at += length


@pytest.fixture
def long_history(agent: Any) -> tuple[str, str]:
    """A visitor's session and the first message of their long conversation."""
    WidgetConfig.objects.filter(agent=agent).update(rate_limits={"frame_per_connection": 10000})
    visitor = new_visitor_id()
    conversation = Conversation.objects.create(agent=agent, visitor_id=visitor)
    Message.objects.bulk_create(
        Message(conversation=conversation, role="agent", text=f"{n} " + "x" * 3500)
        for n in range(HISTORY)
    )
    first = Message.objects.filter(conversation=conversation).order_by("id").first()
    assert first is not None
    token = session_token_issue(
        agent_id=agent.public_id, visitor_id=visitor, origin=SITE_ORIGIN
    ).token
    return token, first.public_id


def flood_with_replays(sock: socket.socket, first_id: str) -> None:
    for _ in range(20):  # ~20 MB asked for; far beyond what kernel buffers take
        sock.sendall(client_frame({"type": "sync", "after": first_id}))


def open_sockets(server: uvicorn.Server) -> list[Any]:
    return [c for c in list(server.server_state.connections) if hasattr(c, "conn")]


@pytest.fixture
def quick_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_protocol, "SLOW_READER_SECONDS", 2.0)
    monkeypatch.setattr(ws_protocol, "ABORT_AFTER_SECONDS", 2.0)


@pytest.mark.usefixtures("quick_bounds")
def test_a_client_that_never_reads_is_dropped_with_its_buffers(long_history) -> None:
    token, first_id = long_history
    with served_like_with_servers("run") as (port, servers):
        sock = open_raw_socket(port, token)
        try:
            flood_with_replays(sock, first_id)
            buffered: list[int] = []
            deadline = time.monotonic() + 30
            while open_sockets(servers[0]) and time.monotonic() < deadline:
                buffered += [c.transport.get_write_buffer_size() for c in open_sockets(servers[0])]
                time.sleep(0.05)
            assert not open_sockets(servers[0]), "the stalled socket is still held"
            assert buffered and max(buffered) <= BUFFER_BOUND, max(buffered)
        finally:
            sock.close()


@pytest.mark.usefixtures("quick_bounds")
def test_a_client_that_stalls_then_reads_gets_the_contract_close_4429(long_history) -> None:
    token, first_id = long_history
    with served_like_with_servers("run") as (port, servers):
        sock = open_raw_socket(port, token)
        try:
            flood_with_replays(sock, first_id)
            # Stalled past the slow-reader bound, but back before the connection is aborted.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and all(
                c.conn.close_sent is None for c in open_sockets(servers[0])
            ):
                time.sleep(0.05)
            received = b""
            with contextlib.suppress(OSError):
                while chunk := sock.recv(1 << 20):
                    received += chunk
        finally:
            sock.close()
    closes = [payload for opcode, payload in server_frames(received) if opcode == 0x8]
    assert closes, "no close frame reached the client"
    assert struct.unpack("!H", closes[0][:2])[0] == 4429
