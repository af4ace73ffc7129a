"""A live platform (uvicorn, in a thread) and a demo customer site on another origin."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from demo.site import DemoSigningKey, demo_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveSites:
    platform_url: str  # http://localhost:PORT
    demo_url: str  # http://127.0.0.1:PORT/ (a different origin, as a real customer site)


def fresh_application() -> Any:
    """The project's ASGI app, built now so WhiteNoise serves the just-built widget core
    straight from the finders (tests run with DEBUG off and no collectstatic)."""
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.core.asgi import get_asgi_application
    from django.test import override_settings

    from config.routing import websocket_urlpatterns

    with override_settings(WHITENOISE_USE_FINDERS=True):
        http = get_asgi_application()
    return ProtocolTypeRouter({"http": http, "websocket": URLRouter(websocket_urlpatterns)})


def serve_in_thread(application: Any, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """uvicorn serving `application` on 127.0.0.1:`port` in a daemon thread, once it listens."""
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            proxy_headers=False,  # as every server we ship: security.client_ip decides
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the platform did not start")
        time.sleep(0.05)
    return server, thread


@contextmanager
def live_platform() -> Iterator[str]:
    server, thread = serve_in_thread(fresh_application(), free_port())
    try:
        yield f"http://localhost:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def demo_site(
    agent_id: str, platform_url: str, signing_key: DemoSigningKey | None = None
) -> Iterator[str]:
    """The demo customer site embedding `agent_id` from `platform_url`; yields its URL."""
    port = free_port()
    demo = demo_server(
        host="127.0.0.1",
        port=port,
        agent_id=agent_id,
        platform_url=platform_url,
        signing_key=signing_key,
    )
    thread = threading.Thread(target=demo.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.shutdown()
        demo.server_close()


@contextmanager
def live_sites(agent_id: str, signing_key: DemoSigningKey | None = None) -> Iterator[LiveSites]:
    with live_platform() as platform_url, demo_site(agent_id, platform_url, signing_key) as demo:
        yield LiveSites(platform_url=platform_url, demo_url=demo)
