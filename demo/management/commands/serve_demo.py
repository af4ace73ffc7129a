"""`manage.py serve_demo`: the demo customer site (demo.site) on 127.0.0.1."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from agents.models import Agent
from demo.seed import DEMO_AGENT_NAME, DEMO_WORKSPACE
from demo.site import DEMO_HOST, demo_server, demo_signing_key


class Command(BaseCommand):
    help = "Serve the demo customer site (another origin) that embeds the demo agent's widget."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8001")))

    def handle(self, *args: Any, **options: Any) -> None:
        agent = Agent.objects.filter(workspace__slug=DEMO_WORKSPACE, name=DEMO_AGENT_NAME).first()
        if agent is None:
            self.stderr.write("No demo agent: run `python manage.py seed_demo` first.")
            raise SystemExit(1)
        signing_key = demo_signing_key(agent)
        if signing_key is None:
            self.stderr.write("The demo agent has no identity key: run `manage.py seed_demo`.")
            raise SystemExit(1)
        # From here on the demo site needs nothing from the platform's database.
        connections.close_all()
        server = demo_server(
            host=DEMO_HOST,
            port=options["port"],
            agent_id=agent.public_id,
            platform_url=settings.PUBLIC_BASE_URL,
            signing_key=signing_key,
        )
        self.stdout.write(f"Demo customer site on http://{DEMO_HOST}:{options['port']}/")
        server.serve_forever()
