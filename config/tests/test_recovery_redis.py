"""Redis (or, before a socket's handshake, PostgreSQL) fails under the platform: a request
is told to come back (503, Retry-After) rather than answered 500, and a websocket is closed
1013 ("try again later", logged once per process) rather than dying with a traceback; both
work again once Redis is back.

Against a redis-server of the test's own (config.tests.faults), killed and started again on
the same port; the machine's Redis is never touched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.test import Client, override_settings

from agents.models import Agent
from config.tests.faults import RedisServer, redis_server
from conftest import SITE_ORIGIN
from conversations.realtime.protocol import CLOSE_TRY_AGAIN
from conversations.sockets import faults as socket_faults
from conversations.sockets.faults import SurvivesServiceFaults, survives_service_faults
from conversations.sockets.inbox_consumer import InboxConsumer
from conversations.sockets.widget_consumer import WidgetConsumer
from core.redis_pools import BREAKER_SECONDS, FailFastConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        server.start()
        yield server


def _redis_settings(url: str) -> dict[str, Any]:
    return {
        "REDIS_URL": url,
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        },
        "CHANNEL_LAYERS": {
            "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
            "faulty": {
                "BACKEND": "core.redis_pools.RedisChannelLayer",
                "CONFIG": {"hosts": [{"address": url, "socket_timeout": 30}]},
            },
        },
    }


def session(agent: Agent) -> Any:
    return Client(raise_request_exception=False).post(
        "/api/v2/widget/session",
        data=json.dumps({"agentId": agent.public_id}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )


def test_a_session_while_redis_is_down_is_a_typed_503_then_served_again(
    agent: Agent, own_redis: RedisServer
) -> None:
    with override_settings(**_redis_settings(own_redis.url), RATE_LIMITS_ENABLED=True):
        assert session(agent).status_code == 200
        own_redis.kill()

        down = session(agent)

        assert down.status_code == 503
        assert down.json()["error"]["code"] == "unavailable"
        assert int(down["Retry-After"]) > 0
        own_redis.start()  # empty: no stamps, no counters
        time.sleep(BREAKER_SECONDS)  # requests fail fast this long after a fault
        assert session(agent).status_code == 200


class Probe(SurvivesServiceFaults, AsyncJsonWebsocketConsumer):
    """A socket on the Redis channel layer, as the widget's and the inbox's are."""

    channel_layer_alias = "faulty"
    left: list[int] = []

    async def connect(self) -> None:
        await self.accept()
        await self.send_json({"type": "ready"})

    async def disconnect(self, code: int) -> None:
        Probe.left.append(code)


async def _sockets_through_a_redis_death(own_redis: RedisServer) -> list[Any]:
    sockets = [WebsocketCommunicator(Probe.as_asgi(), "/ws/probe/") for _ in range(3)]
    for communicator in sockets:
        connected, _ = await communicator.connect()
        assert connected
        assert await communicator.receive_json_from() == {"type": "ready"}
    own_redis.kill()
    return [await c.receive_output(timeout=20) for c in sockets]


def test_a_socket_whose_redis_dies_is_closed_1013_and_logged_once(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """On an event loop of its own, in a thread: what channels_redis leaves behind on a dead
    server (its receive tasks) dies with that loop, not with the test runner's."""
    socket_faults.fault_log.logged_at = -socket_faults.FAULT_LOG_SECONDS
    Probe.left = []
    closes: list[Any] = []

    def scenario() -> None:
        closes.extend(asyncio.run(_sockets_through_a_redis_death(own_redis)))

    with (
        override_settings(**_redis_settings(own_redis.url)),
        caplog.at_level(logging.WARNING, logger="conversations.sockets.faults"),
    ):
        thread = threading.Thread(target=scenario, daemon=True)
        thread.start()
        thread.join(timeout=60)

    assert closes == [{"type": "websocket.close", "code": CLOSE_TRY_AGAIN}] * 3
    assert Probe.left == [CLOSE_TRY_AGAIN] * 3  # each left its groups and counters
    warnings = [r for r in caplog.records if r.name == "conversations.sockets.faults"]
    assert len(warnings) == 1  # once for the process, not once per socket


def test_the_widget_and_inbox_sockets_survive_redis_faults() -> None:
    assert issubclass(WidgetConsumer, SurvivesServiceFaults)
    assert issubclass(InboxConsumer, SurvivesServiceFaults)
    # The mixin's __call__ must come before Channels' own.
    assert WidgetConsumer.__mro__.index(SurvivesServiceFaults) < WidgetConsumer.__mro__.index(
        AsyncJsonWebsocketConsumer
    )


async def test_a_database_fault_before_the_handshake_closes_1013_not_a_500() -> None:
    """The inbox reads the staff session from PostgreSQL before its consumer runs."""

    async def session_lookup_dropped(scope: Any, receive: Any, send: Any) -> None:
        raise OperationalError("terminating connection due to administrator command")

    communicator = WebsocketCommunicator(survives_service_faults(session_lookup_dropped), "/ws/")
    connected, code = await communicator.connect()

    assert connected  # accepted, so that the browser hears the code
    assert await communicator.receive_output(timeout=5) == {
        "type": "websocket.close",
        "code": CLOSE_TRY_AGAIN,
    }


def test_the_inbox_route_is_guarded_before_its_session_is_read() -> None:
    from config.routing import websocket_urlpatterns

    inbox = next(p for p in websocket_urlpatterns if str(p.pattern) == "ws/inbox/")
    assert inbox.callback.__qualname__.startswith("survives_service_faults")


def test_a_stalled_redis_costs_one_timeout_then_requests_fail_fast(
    own_redis: RedisServer,
) -> None:
    """SIGSTOP: Redis accepts connections and answers nothing. The first command waits out
    its socket timeout; the next ones, for BREAKER_SECONDS, fail at once."""
    pool = redis.BlockingConnectionPool.from_url(
        own_redis.url, connection_class=FailFastConnection, socket_timeout=1
    )
    client = redis.Redis(connection_pool=pool)
    assert client.ping()
    assert own_redis.process is not None
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            client.get("k")
        waited = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises(redis.ConnectionError, match="failed a moment ago"):
            client.get("k")
        failed_fast = time.monotonic() - started
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    assert waited >= 0.9 and failed_fast < 0.1
    time.sleep(BREAKER_SECONDS)
    assert client.ping()  # closed again once Redis answers
    pool.disconnect()
