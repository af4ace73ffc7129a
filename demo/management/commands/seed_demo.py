from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from demo.seed import demo_seed
from demo.store import demo_store_seed
from widgets.installation.snippet import embed_snippet


class Command(BaseCommand):
    help = "Create the demo workspace, agent, knowledge and users (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        seed = demo_seed(admin_password=os.environ.get("DEMO_ADMIN_PASSWORD", "admin"))
        demo_port = os.environ.get("DEMO_PORT", "8001")
        store_url = f"http://127.0.0.1:{os.environ.get('DEMO_STORE_PORT', '8002')}/mcp"
        demo_store_seed(seed.agent, store_url)
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(
            f"  Admin:      {settings.PUBLIC_BASE_URL}/admin/  "
            f"(user {seed.admin_username} / password {seed.admin_password})"
        )
        self.stdout.write("  Workspace owner: acme-lead (same password)")
        self.stdout.write(f"  Agent:      {seed.agent.name} ({seed.agent.public_id})")
        self.stdout.write(
            f"  Identity:   key {seed.identity_key.key_id} (HS256): the demo site signs its "
            "customers' tokens with its secret"
        )
        self.stdout.write(f"  Demo site:  http://127.0.0.1:{demo_port}/")
        self.stdout.write(f"  Demo store: {store_url} (MCP, Shopify preset)")
        self.stdout.write("  Embed snippet:\n")
        self.stdout.write("    " + embed_snippet(seed.agent.public_id).replace("\n", "\n    "))
