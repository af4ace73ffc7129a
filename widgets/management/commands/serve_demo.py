from __future__ import annotations

import os
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from agents.models import Agent
from widgets.demo import DEMO_AGENT_NAME, DEMO_WORKSPACE


def demo_page(*, agent_id: str, platform_url: str) -> bytes:
    template = (settings.BASE_DIR / "frontend" / "demo" / "index.html").read_text()
    return (
        template.replace("{{AGENT_ID}}", agent_id)
        .replace("{{PLATFORM_URL}}", platform_url)
        .encode()
    )


class DemoHandler(BaseHTTPRequestHandler):
    """A stand-in customer website on its own origin, embedding the widget."""

    def __init__(self, *args: Any, page: bytes, **kwargs: Any) -> None:
        self.page = page
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self.path.split("?")[0] not in ("/", "/index.html", "/other.html"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def demo_server(*, host: str, port: int, agent_id: str, platform_url: str) -> ThreadingHTTPServer:
    page = demo_page(agent_id=agent_id, platform_url=platform_url)
    return ThreadingHTTPServer((host, port), partial(DemoHandler, page=page))


class Command(BaseCommand):
    help = "Serve the demo customer site (another origin) that embeds the demo agent's widget."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8001")))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        agent = Agent.objects.filter(workspace__slug=DEMO_WORKSPACE, name=DEMO_AGENT_NAME).first()
        if agent is None:
            self.stderr.write("No demo agent: run `python manage.py seed_demo` first.")
            raise SystemExit(1)
        server = demo_server(
            host=options["host"],
            port=options["port"],
            agent_id=agent.public_id,
            platform_url=settings.PUBLIC_BASE_URL,
        )
        self.stdout.write(f"Demo customer site on http://{options['host']}:{options['port']}/")
        server.serve_forever()
