"""The demo customer site signs its customers in the way a real site's backend would."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client

from agents.models import Agent
from bench.widget_perf import SNIPPET, WIDGET_SCRIPT
from conversations.tests.test_widget_api import start
from core.errors import InvalidCustomerToken
from customers.identity import identity_verify
from customers.keys import identity_key_retire, identity_secret_rotate, live_keys
from customers.models import IdentityKey
from demo.identity import DEMO_CUSTOMERS, customer_token_for
from demo.seed import DEMO_AGENT_NAME, DEMO_WORKSPACE, demo_identity_key
from demo.site import (
    DemoSigningKey,
    demo_page,
    demo_server,
    demo_signing_key,
)
from security.models import AuditEntry


def seed() -> Agent:
    call_command("seed_demo", stdout=StringIO())
    return Agent.objects.get(workspace__slug=DEMO_WORKSPACE, name=DEMO_AGENT_NAME)


def live_shared_secrets(agent: Agent) -> list[IdentityKey]:
    return list(live_keys(agent.pk).filter(algorithm=IdentityKey.Algorithm.HS256))


@pytest.fixture
def signing_key(agent: Agent) -> DemoSigningKey:
    key, secret = identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)
    return DemoSigningKey(secret=secret, key_id=key.key_id)


@contextmanager
def demo_site(agent: Agent, signing_key: DemoSigningKey | None) -> Iterator[int]:
    """The demo site on an ephemeral port; its handler never touches the ORM."""
    server = demo_server(
        host="127.0.0.1",
        port=0,
        agent_id=agent.public_id,
        platform_url="http://localhost:8000",
        signing_key=signing_key,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def post(port: int, path: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def verified(agent: Agent, token: str) -> Any:
    return identity_verify(agent_pk=agent.pk, agent_public_id=agent.public_id, customer_token=token)


# ---- seeding ---------------------------------------------------------------------------


def test_seeding_twice_leaves_exactly_one_live_shared_secret(db: Any) -> None:
    agent = seed()
    first = live_shared_secrets(agent)
    assert len(first) == 1

    seed()

    assert live_shared_secrets(agent) == first


def test_seeding_keeps_a_secret_staff_rotated(db: Any) -> None:
    agent = seed()
    rotated, _ = identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)

    seed()

    assert IdentityKey.objects.filter(agent=agent).count() == 2
    assert demo_identity_key(agent) == rotated  # the new one, not the one in its grace period


def test_seeding_makes_a_new_secret_when_the_old_one_was_retired(db: Any) -> None:
    agent = seed()
    (old,) = live_shared_secrets(agent)
    identity_key_retire(old, workspace_id=agent.workspace_id)

    seed()

    (new,) = live_shared_secrets(agent)
    assert new.key_id != old.key_id


# ---- where the demo site's secret comes from ---------------------------------------------


def test_the_secret_comes_from_configuration_when_set(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_IDENTITY_SECRET", "pasted-secret")
    monkeypatch.setenv("DEMO_IDENTITY_KEY_ID", "idk_pasted")

    assert demo_signing_key(agent) == DemoSigningKey(secret="pasted-secret", key_id="idk_pasted")
    assert not AuditEntry.objects.filter(action="identity.secret.reveal").exists()


def test_an_empty_configured_secret_is_refused_loudly(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_IDENTITY_SECRET", " ")

    with pytest.raises(ImproperlyConfigured):
        demo_signing_key(agent)


def test_without_configuration_the_seeded_secret_is_revealed_and_audited(
    agent: Agent, signing_key: DemoSigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEMO_IDENTITY_SECRET", raising=False)

    assert demo_signing_key(agent) == signing_key
    assert AuditEntry.objects.filter(
        action="identity.secret.reveal", target=signing_key.key_id
    ).exists()


def test_an_agent_without_a_key_has_no_secret_to_sign_with(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEMO_IDENTITY_SECRET", raising=False)

    assert demo_signing_key(agent) is None


# ---- the signer ------------------------------------------------------------------------


def test_the_demo_signers_token_is_verified_as_the_customer(
    agent: Agent, signing_key: DemoSigningKey
) -> None:
    token = customer_token_for(
        DEMO_CUSTOMERS["ana"], signing_key.secret, agent.public_id, key_id=signing_key.key_id
    )

    identity = verified(agent, token)

    assert identity.verified is True
    assert identity.method == "token"
    assert identity.key_id == signing_key.key_id
    assert identity.external_id == "cust_ana"
    assert identity.email == "ana@example.com"
    assert identity.name == "Ana Souza"
    assert identity.attributes == {"plan": "pro"}


def test_the_demo_signers_token_is_refused_by_another_agent(
    agent: Agent, signing_key: DemoSigningKey
) -> None:
    token = customer_token_for(DEMO_CUSTOMERS["ben"], signing_key.secret, "agt_someoneElse1")

    with pytest.raises(InvalidCustomerToken, match="aud"):
        verified(agent, token)


# ---- the demo site's backend -------------------------------------------------------------


def test_demo_login_answers_a_token_the_platform_verifies(
    agent: Agent, signing_key: DemoSigningKey
) -> None:
    with demo_site(agent, signing_key) as port:
        status, body = post(port, "/demo-login", b'{"customer": "ben"}', "application/json")

    assert status == 200
    identity = verified(agent, body["customerToken"])
    assert (identity.external_id, identity.name) == ("cust_ben", "Ben Okafor")
    assert identity.attributes == {"plan": "free"}


def test_make_run_signs_ana_into_the_demo_agents_widget(
    client: Client, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """seed_demo, then serve_demo with nothing configured, then the widget's session."""
    monkeypatch.delenv("DEMO_IDENTITY_SECRET", raising=False)
    agent = seed()
    with demo_site(agent, demo_signing_key(agent)) as port:
        status, body = post(port, "/demo-login", b'{"customer": "ana"}', "application/json")
        assert status == 200

        response = start(
            client,
            agent.public_id,
            origin=f"http://127.0.0.1:{port}",
            customerToken=body["customerToken"],
        )

    assert response.status_code == 200, response.content
    assert response.json()["customer"] == {
        "id": "cust_ana",
        "verified": True,
        "email": "ana@example.com",
        "name": "Ana Souza",
    }


def test_demo_login_accepts_a_form_post(agent: Agent, signing_key: DemoSigningKey) -> None:
    with demo_site(agent, signing_key) as port:
        status, body = post(
            port, "/demo-login", b"customer=ana", "application/x-www-form-urlencoded"
        )

    assert status == 200
    assert verified(agent, body["customerToken"]).external_id == "cust_ana"


@pytest.mark.parametrize(
    "body", [b'{"customer": "mallory"}', b'{"customer": ["ana"]}', b"{}", b"not json"]
)
def test_demo_login_refuses_an_unknown_customer(
    agent: Agent, signing_key: DemoSigningKey, body: bytes
) -> None:
    with demo_site(agent, signing_key) as port:
        status, answer = post(port, "/demo-login", body, "application/json")

    assert status == 400
    assert answer["error"]["code"] == "unknown_customer"
    assert "customerToken" not in answer


def test_demo_login_without_a_secret_says_how_to_get_one(agent: Agent) -> None:
    with demo_site(agent, signing_key=None) as port:
        status, answer = post(port, "/demo-login", b'{"customer": "ana"}', "application/json")

    assert status == 503
    assert "seed_demo" in answer["error"]["message"]


def test_demo_logout_answers_ok(agent: Agent, signing_key: DemoSigningKey) -> None:
    with demo_site(agent, signing_key) as port:
        assert post(port, "/demo-logout", b"", "application/json") == (200, {"ok": True})


def test_the_demo_site_binds_loopback_only(agent: Agent) -> None:
    with pytest.raises(ImproperlyConfigured):
        demo_server(host="0.0.0.0", port=0, agent_id=agent.public_id, platform_url="http://x")


def test_the_page_keeps_the_snippet_the_bench_strips(agent: Agent) -> None:
    page = demo_page(agent_id=agent.public_id, platform_url="http://localhost:8000")

    stripped, count = SNIPPET.subn(b"", page)

    assert count == 1
    assert not WIDGET_SCRIPT.search(stripped)
    assert b"Demo customer account" in page
