"""The demo customer site: a stand-in website on its own origin that embeds the widget and,
from its own backend, signs in one of two demo customers (`manage.py serve_demo`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agents.models import Agent
from customers.keys import identity_secret_reveal
from demo.identity import DEMO_CUSTOMERS, customer_token_for
from demo.seed import demo_identity_key

# The demo site mints verified identities for whoever asks: it must never face a network.
DEMO_HOST = "127.0.0.1"
MAX_BODY_BYTES = 1024


@dataclass(frozen=True)
class DemoSigningKey:
    """What the demo site's backend signs customer tokens with: two lines of its config."""

    secret: str
    key_id: str = ""


def demo_signing_key(agent: Agent) -> DemoSigningKey | None:
    """The identity secret from the demo site's configuration, else the seeded key's.

    A real site pastes the key id and secret (shown to staff in the admin) into its own
    configuration — here DEMO_IDENTITY_SECRET and DEMO_IDENTITY_KEY_ID — and never reads the
    platform's database. Only so that `make run` works with nothing to paste does the demo
    reveal its seeded key itself, once at start-up (audited like a reveal in the admin).
    """
    if "DEMO_IDENTITY_SECRET" in os.environ:
        secret = os.environ["DEMO_IDENTITY_SECRET"].strip()
        if not secret:
            raise ImproperlyConfigured("DEMO_IDENTITY_SECRET is set but empty.")
        key_id = os.environ.get("DEMO_IDENTITY_KEY_ID", "").strip()
        return DemoSigningKey(secret=secret, key_id=key_id)
    key = demo_identity_key(agent)
    if key is None:
        return None
    secret = identity_secret_reveal(key, workspace_id=agent.workspace_id)
    return DemoSigningKey(secret=secret, key_id=key.key_id)


def demo_page(*, agent_id: str, platform_url: str) -> bytes:
    template = (settings.BASE_DIR / "frontend" / "demo" / "index.html").read_text()
    return (
        template.replace("{{AGENT_ID}}", agent_id)
        .replace("{{PLATFORM_URL}}", platform_url)
        .encode()
    )


def demo_login_fields(body: bytes, content_type: str) -> dict[str, Any]:
    """The posted fields, from a JSON object or an HTML form."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            fields = json.loads(body or b"{}")
        except ValueError:
            return {}
        return fields if isinstance(fields, dict) else {}
    return {name: values[0] for name, values in parse_qs(body.decode(errors="replace")).items()}


class DemoHandler(BaseHTTPRequestHandler):
    """A stand-in customer website on its own origin, embedding the widget.

    Its backend signs in one of two demo customers: `POST /demo-login` answers
    `{customerToken}` for the page to hand to the widget, `POST /demo-logout` signs out.
    """

    def __init__(
        self,
        *args: Any,
        page: bytes,
        agent_id: str,
        signing_key: DemoSigningKey | None,
        **kwargs: Any,
    ) -> None:
        self.page = page
        self.agent_id = agent_id
        self.signing_key = signing_key
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

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        if path not in ("/demo-login", "/demo-logout"):
            self.send_error(404)
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            message = f"Send a body of at most {MAX_BODY_BYTES} bytes, with its Content-Length."
            self._send_error_json(400, "invalid_request", message)
            return
        body = self.rfile.read(length)
        if path == "/demo-logout":
            # A real site ends its own session here (clears its cookie); the widget forgets
            # the customer when the page calls CustomerAgent.logout().
            self._send_json(200, {"ok": True})
            return
        self._demo_login(demo_login_fields(body, self.headers.get("Content-Type", "")))

    def _demo_login(self, fields: dict[str, Any]) -> None:
        customer = DEMO_CUSTOMERS.get(str(fields.get("customer", "")))
        if customer is None:
            choices = ", ".join(sorted(DEMO_CUSTOMERS))
            self._send_error_json(400, "unknown_customer", f"'customer' must be one of {choices}.")
            return
        if self.signing_key is None:
            self._send_error_json(
                503,
                "identity_not_configured",
                "The demo site has no identity secret: run `manage.py seed_demo`.",
            )
            return
        token = customer_token_for(
            customer, self.signing_key.secret, self.agent_id, key_id=self.signing_key.key_id
        )
        self._send_json(200, {"customerToken": token})

    def _send_error_json(self, status: int, code: str, message: str) -> None:
        self._send_json(status, {"error": {"code": code, "message": message}})

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")  # tokens are never cached
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def demo_server(
    *,
    host: str,
    port: int,
    agent_id: str,
    platform_url: str,
    signing_key: DemoSigningKey | None = None,
) -> ThreadingHTTPServer:
    """The demo site, on loopback only; without a signing key, sign-in answers 503."""
    if host != DEMO_HOST:
        raise ImproperlyConfigured(f"The demo site signs in anyone: it binds {DEMO_HOST} only.")
    page = demo_page(agent_id=agent_id, platform_url=platform_url)
    handler = partial(DemoHandler, page=page, agent_id=agent_id, signing_key=signing_key)
    return ThreadingHTTPServer((host, port), handler)
