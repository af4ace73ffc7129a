from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.realtime.protocol import browser_module

PROTOCOL_JS = Path(settings.BASE_DIR) / "frontend" / "src" / "protocol.js"


class Command(BaseCommand):
    help = (
        "Write frontend/src/protocol.js, the chat protocol's names and limits for the widget "
        "and the inbox page, from conversations/realtime/protocol.py."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Fail if the file differs; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = browser_module()
        current = PROTOCOL_JS.read_text() if PROTOCOL_JS.exists() else ""
        if options["check"]:
            if current != wanted:
                raise CommandError(f"{PROTOCOL_JS} is out of date: run manage.py protocol_js")
            return
        if current != wanted:
            PROTOCOL_JS.write_text(wanted)
        self.stdout.write(f"{PROTOCOL_JS} is current")
