"""`manage.py serve_demo_store`: the demo's store as an MCP server (demo.store)."""

from __future__ import annotations

from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandParser

from demo.store import demo_store_build


class Command(BaseCommand):
    help = "Serve the demo store's MCP tools (streamable HTTP at /mcp) on 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8002)

    def handle(self, *args: Any, **options: Any) -> None:
        app = demo_store_build().streamable_http_app()
        uvicorn.run(app, host="127.0.0.1", port=options["port"], log_level="warning")
