"""PostgreSQL drops the platform's connections, or stops taking new ones, under real clients.

Against a real uvicorn (started as `make run` starts it, in a thread sharing the test
database): a returning visitor asking for a session, and a visitor's websocket sending a
message, either get what they asked for or are told, in the contract's shape, to come back
later — never a 500, never an ack for a message that was not stored. /readyz says the
database is failing while it is, and ok once it is back.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from agents.models import Agent
from config.tests.faults import (
    app_pool,
    backends_terminate,
    database_unreachable,
    own_connections_refresh,
    pool_fill,
    postgres_required,
)
from conftest import SITE_ORIGIN
from conversations.models import Message
from security.tests.hostile.test_client_address import served_like

pytestmark = pytest.mark.django_db(transaction=True)

IDLE = 4  # connections waiting in the pool when PostgreSQL drops them (a burst's worth)
RECOVERY_SECONDS = 20
# Longer than the pool keeps backing off one reconnection (config/settings/services.py), shorter
# than a real outage often is; the pool then took ~15 s more to try again.
OUTAGE_SECONDS = 17
SERVED_AGAIN_WITHIN_SECONDS = 8


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Visitor:
    visitor_id: str
    secret: str
    token: str


@pytest.fixture
def port(agent: Agent) -> Iterator[int]:
    postgres_required()
    with served_like("run") as served_port:
        yield served_port
    own_connections_refresh()  # pytest-django's flush runs on this thread's connection next


@pytest.fixture
def visitor(agent: Agent, port: int) -> Visitor:
    first = session_ask(port, agent)
    assert first.status == 200, first.body
    return Visitor(first.body["visitorId"], first.body["visitorSecret"], first.body["token"])


def session_ask(port: int, agent: Agent, visitor: Visitor | None = None) -> Answer:
    """POST /api/v2/widget/session as the widget does; a returning visitor's session reads
    their open conversation from the database."""
    body: dict[str, str] = {"agentId": agent.public_id}
    if visitor is not None:
        body |= {"visitorId": visitor.visitor_id, "visitorSecret": visitor.secret}
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request(
            "POST",
            "/api/v2/widget/session",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Origin": SITE_ORIGIN},
        )
        response = client.getresponse()
        raw = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers, json.loads(raw) if raw else None)
    finally:
        client.close()


def readyz(port: int) -> Answer:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request("GET", "/readyz")
        response = client.getresponse()
        return Answer(response.status, {}, json.loads(response.read()))
    finally:
        client.close()


def assert_served_or_told_to_retry(answer: Answer) -> None:
    assert answer.status in (200, 503), answer
    if answer.status == 503:
        assert answer.body["error"]["code"] == "unavailable", answer.body
        assert answer.body["error"]["message"]
        assert int(answer.headers["retry-after"]) > 0
        # The widget (another origin) can read the answer, and so when to come back.
        assert answer.headers["access-control-allow-origin"] == SITE_ORIGIN
        assert "Retry-After" in answer.headers["access-control-expose-headers"]


@contextmanager
def widget_socket(port: int, token: str) -> Iterator[ClientConnection]:
    with connect(
        f"ws://127.0.0.1:{port}/ws/widget/",
        subprotocols=[Subprotocol("customeragent.v2"), Subprotocol(f"auth.{token}")],
        origin=Origin(SITE_ORIGIN),
        open_timeout=10,
        proxy=None,
    ) as socket:
        frame_wait(socket, "session.ready")
        yield socket


def frame_wait(socket: ClientConnection, kind: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame["type"] == kind or frame["type"] == "error":
            return dict(frame)


def message_send(socket: ClientConnection, client_id: str) -> None:
    socket.send(json.dumps({"type": "message.send", "clientId": client_id, "text": "Hi?"}))


def connections_drop() -> None:
    """Every connection the platform holds, idle in its pool or not, dropped at once."""
    pool_fill(IDLE)
    backends_terminate()


def stored(client_id: str) -> list[str]:
    own_connections_refresh()  # this thread's connection died with the others
    return list(Message.objects.filter(client_id=client_id).values_list("public_id", flat=True))


def test_a_returning_visitor_after_every_connection_dropped_is_served_or_told_to_retry(
    agent: Agent, port: int, visitor: Visitor
) -> None:
    connections_drop()
    answers = [session_ask(port, agent, visitor) for _ in range(IDLE + 1)]
    for answer in answers:
        assert_served_or_told_to_retry(answer)
    # At most one visitor hears "later": the pool then forgets the other dropped connections.
    assert all(answer.status == 200 for answer in answers[1:]), answers


def test_a_message_sent_after_every_connection_dropped_is_stored_once_and_acked(
    port: int, visitor: Visitor
) -> None:
    with widget_socket(port, visitor.token) as socket:
        connections_drop()
        message_send(socket, "after-the-drop")
        ack = frame_wait(socket, "message.ack")
    assert ack["type"] == "message.ack", ack
    assert stored("after-the-drop") == [ack["id"]]


def test_a_socket_opened_after_every_connection_dropped_is_let_in(
    port: int, visitor: Visitor
) -> None:
    connections_drop()
    with widget_socket(port, visitor.token) as socket:  # past session.ready
        message_send(socket, "first-after-the-drop")
        assert frame_wait(socket, "message.ack")["type"] == "message.ack"


def test_a_message_sent_while_the_database_is_unreachable_is_refused_then_stored_on_resend(
    port: int, visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_pool(), "timeout", 1.0)  # each attempt waits this long for PostgreSQL
    with widget_socket(port, visitor.token) as socket, database_unreachable():
        message_send(socket, "during-the-outage")
        refused = frame_wait(socket, "message.ack")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert refused["type"] == "error", refused
    assert refused["code"] == "unavailable"
    assert refused["clientId"] == "during-the-outage"
    # 1013 "try again later": the widget reconnects and resends what it has not seen acked.
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    assert stored("during-the-outage") == []
    ack = resend_until_acked(port, visitor.token, "during-the-outage")
    assert stored("during-the-outage") == [ack["id"]]


def resend_until_acked(port: int, token: str, client_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        try:
            with widget_socket(port, token) as socket:
                message_send(socket, client_id)
                frame = frame_wait(socket, "message.ack")
                if frame["type"] == "message.ack":
                    return frame
        except (ConnectionClosed, TimeoutError, OSError):
            pass
        assert time.monotonic() < deadline, f"{client_id} was never acked"
        time.sleep(0.5)


def test_readyz_after_every_connection_dropped_says_the_database_is_ok(port: int) -> None:
    connections_drop()
    answer = readyz(port)
    assert answer.status == 200, answer.body
    assert answer.body["checks"]["database"] == "ok"


def test_while_the_database_is_unreachable_readyz_says_so_promptly_until_it_is_back(
    port: int,
) -> None:
    with database_unreachable():
        own_connections_refresh()  # the pool forgets its dropped connections: none is left
        for _ in range(2):
            started = time.monotonic()
            during = readyz(port)
            waited = time.monotonic() - started
            assert during.status == 503, during
            assert during.body["failing"] == ["database"]
            assert during.body["checks"]["database"].startswith("failing")
            assert waited < 5, f"/readyz took {waited:.1f} s (a probe gives up well before)"
    deadline = time.monotonic() + RECOVERY_SECONDS
    while (after := readyz(port)).status != 200:
        assert time.monotonic() < deadline, f"/readyz still failing: {after.body}"
        time.sleep(0.5)
    assert after.body["checks"]["database"] == "ok"


def test_visitors_told_to_retry_during_an_outage_are_served_within_seconds_of_its_end(
    agent: Agent, port: int, visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_pool(), "timeout", 1.0)  # waiting for a connection (10 s in production)
    with database_unreachable():
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < outage_ends:
            refused = session_ask(port, agent, visitor)
            assert refused.status == 503, refused
            assert_served_or_told_to_retry(refused)
            time.sleep(0.5)
    back = time.monotonic()
    while (served := session_ask(port, agent, visitor)).status != 200:
        assert_served_or_told_to_retry(served)
        waited = time.monotonic() - back
        assert waited < SERVED_AGAIN_WITHIN_SECONDS, f"still refused after {waited:.1f} s"
        time.sleep(0.2)
