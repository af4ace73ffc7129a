"""Hostile: what A's API keys may do, and how staff sign in (issue 13, items 3, 4 and 9).

The first test is the class guard: it walks every URL pattern under /api/v2/ and sends
every unsafe method with A's read-only key. An endpoint added tomorrow that forgets the
permission fails it without anyone writing a test for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from agents.models import Agent, KnowledgeArticle, McpServer
from conversations.models import Conversation
from customers.models import Customer, CustomerMemory
from experiments.models import Experiment
from security.models import AuditEntry
from security.sealing import seal
from webhooks.models import WebhookEndpoint
from widgets.publishing.releases import widget_publish
from workspaces.models import ApiKey, Membership

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Not staff APIs: the widget's public endpoints, signing in, the certificate check and the
# published schema check their own credentials; an API key means nothing to them.
PUBLIC_PREFIXES = ("widget/", "auth/", "tls/", "schema/", "docs/")
ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def api_routes() -> list[str]:
    """Every route under /api/v2/, as written in the urlconf ("agents/<str:agent_id>")."""
    root = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/v2/")
    assert isinstance(root, URLResolver)
    return sorted(_routes(root.url_patterns, ""))


def _routes(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        assert not route.startswith("^"), f"{route}: a regex route; fill it in this test"
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route


def keyed(plain: str) -> dict[str, str]:
    return {"Authorization": f"Api-Key {plain}"}


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def error_code(response: Any) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


@pytest.fixture
def a_objects(agent_a: Agent, owner_a: Any) -> dict[str, Model]:
    """One of each of workspace A's objects that a path names."""
    customer = Customer.objects.create(
        workspace=agent_a.workspace, external_id="cus-1", is_verified=True, name="Ada"
    )
    experiment = Experiment.objects.create(
        workspace=agent_a.workspace, agent=agent_a, key="greeting", name="Greeting test"
    )
    return {
        "agent": agent_a,
        "widget": agent_a.widget_config,
        "release": widget_publish(agent=agent_a, by=owner_a),
        "article": KnowledgeArticle.objects.create(agent=agent_a, title="Returns", body="30 days."),
        "server": McpServer.objects.create(
            agent=agent_a, name="Shop", url="https://mcp.acme.test/"
        ),
        "customer": customer,
        "memory": CustomerMemory.objects.create(
            customer=customer, key="plan", value="pro", source=CustomerMemory.Source.STAFF
        ),
        "conversation": Conversation.objects.create(agent=agent_a, visitor_id="vis_" + "a" * 16),
        "experiment": experiment,
        "webhook": WebhookEndpoint.objects.create(
            workspace=agent_a.workspace,
            url="https://hooks.example.com/a",
            events=["message.created"],
            sealed_secret=seal("whsec_a"),
        ),
    }


def path_ids(objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "agent_id": objects["agent"].public_id,
        "article_id": objects["article"].pk,
        "server_id": objects["server"].pk,
        "version": objects["release"].version,
        "customer_id": objects["customer"].pk,
        "memory_id": objects["memory"].pk,
        "conversation_id": objects["conversation"].public_id,
        "experiment_id": objects["experiment"].pk,
        "webhook_id": objects["webhook"].public_id,
    }


def fill(route: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"/api/v2/{route}: give <{name}> a real id of workspace A in path_ids()")
        return str(ids[name])

    return "/api/v2/" + ROUTE_PARAMETER.sub(value, route)


def database_snapshot(objects: dict[str, Model]) -> dict[str, Any]:
    """Row counts of every table, and every column of the rows the paths name."""
    counts = {model._meta.label: model._default_manager.count() for model in apps.get_models()}
    rows = {
        name: type(obj)._default_manager.filter(pk=obj.pk).values().get()
        for name, obj in objects.items()
    }
    return {"counts": counts, "rows": rows}


# --- Item 3: a read-only key changes nothing, on any endpoint --------------------------


def test_a_read_only_key_changes_nothing_on_any_endpoint(
    client: Client, read_only_key: str, a_objects: dict[str, Model]
) -> None:
    routes = api_routes()
    assert len(routes) > 30 and "customers/<int:customer_id>/memory/<int:memory_id>" in routes
    ids = path_ids(a_objects)
    before = database_snapshot(a_objects)
    offenders = []
    for route in routes:
        url = fill(route, ids)
        for method in UNSAFE:
            response = client.generic(
                method,
                url,
                json.dumps({"value": "x", "name": "x"}),
                "application/json",
                headers=keyed(read_only_key),
            )
            refused = (
                response.status_code >= 400
                if route.startswith(PUBLIC_PREFIXES)
                else response.status_code == 403 and error_code(response) == "read_only_key"
            )
            if not refused:
                offenders.append(f"{method} {url} -> {response.status_code}")
    assert offenders == []
    assert database_snapshot(a_objects) == before


def test_the_refusal_has_the_contract_shape(
    client: Client, read_only_key: str, a_objects: dict[str, Model]
) -> None:
    customer = a_objects["customer"]
    response = client.patch(
        f"/api/v2/customers/{customer.pk}",
        {"name": "Mallory"},
        content_type="application/json",
        headers=keyed(read_only_key),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "read_only_key"
    assert "read-only" in response.json()["error"]["message"]


def test_a_read_only_key_still_reads(
    client: Client, read_only_key: str, a_objects: dict[str, Model]
) -> None:
    memory = a_objects["memory"]
    assert isinstance(memory, CustomerMemory)
    response = client.get(
        f"/api/v2/customers/{memory.customer_id}/memory", headers=keyed(read_only_key)
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [memory.pk]


# --- Item 4: staff only — people need staff status, on every endpoint -------------------


def test_a_non_staff_members_old_token_opens_no_endpoint(
    client: Client, owner_a: Any, a_objects: dict[str, Model]
) -> None:
    access = str(RefreshToken.for_user(owner_a).access_token)  # issued while still staff
    owner_a.is_staff = False
    owner_a.save(update_fields=["is_staff"])
    ids = path_ids(a_objects)
    before = database_snapshot(a_objects)
    opened = []
    for route in api_routes():
        if route.startswith(PUBLIC_PREFIXES):
            continue
        url = fill(route, ids)
        for method in ("GET", *UNSAFE):
            response = client.generic(method, url, "{}", "application/json", headers=bearer(access))
            if response.status_code != 403 or error_code(response) != "staff_required":
                opened.append(f"{method} {url} -> {response.status_code}")
    assert opened == []
    assert database_snapshot(a_objects) == before


def test_a_non_staff_user_gets_no_token(client: Client, workspace_a: Any) -> None:
    member = get_user_model().objects.create_user(username="member", password="pw-member")
    Membership.objects.create(workspace=workspace_a, user=member, role=Membership.Role.OWNER)
    response = client.post(
        "/api/v2/auth/token", {"username": "member", "password": "pw-member"}, "application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "staff_required"
    assert not OutstandingToken.objects.exists()


# --- Item 4: rotated refresh tokens are spent; a password change ends every token --------


def sign_in(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(
        "/api/v2/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        **extra,
    )


def refresh(client: Client, token: str) -> Any:
    return client.post("/api/v2/auth/token/refresh", {"refresh": token}, "application/json")


def test_a_refresh_token_is_good_once(client: Client, owner_a: Any) -> None:
    first = sign_in(client, "owner-a", "pw-owner-a").json()["refresh"]
    rotated = refresh(client, first)
    assert rotated.status_code == 200
    for _ in range(3):
        replay = refresh(client, first)
        assert replay.status_code == 401
        assert replay.json()["error"]["code"] == "invalid_refresh_token"
    assert refresh(client, rotated.json()["refresh"]).status_code == 200


def test_a_password_change_ends_refresh_and_access_tokens(client: Client, owner_a: Any) -> None:
    tokens = sign_in(client, "owner-a", "pw-owner-a").json()
    assert client.get("/api/v2/agents/", headers=bearer(tokens["access"])).status_code == 200
    owner_a.set_password("a-new-long-passphrase")
    owner_a.save()
    assert client.get("/api/v2/agents/", headers=bearer(tokens["access"])).status_code == 401
    response = refresh(client, tokens["refresh"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_refresh_token"
    fresh = sign_in(client, "owner-a", "a-new-long-passphrase").json()
    assert client.get("/api/v2/agents/", headers=bearer(fresh["access"])).status_code == 200


@pytest.mark.parametrize("demotion", ["is_staff", "is_active"])
def test_losing_staff_status_ends_refresh(client: Client, owner_a: Any, demotion: str) -> None:
    tokens = sign_in(client, "owner-a", "pw-owner-a").json()
    setattr(owner_a, demotion, False)
    owner_a.save(update_fields=[demotion])
    assert refresh(client, tokens["refresh"]).status_code == 401
    assert client.get("/api/v2/agents/", headers=bearer(tokens["access"])).status_code in (401, 403)


# --- Item 4: sign-in lockout, by account and by address, on the API and the admin --------

RIGHT, WRONG = "pw-owner-a", "not-the-password"


def admin_sign_in(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, **extra
    )


def test_sixty_wrong_passwords_lock_the_account_on_the_api(client: Client, owner_a: Any) -> None:
    for attempt in range(60):  # each from another address: the account is what is locked
        sign_in(client, "owner-a", WRONG, REMOTE_ADDR=f"198.51.100.{attempt + 1}")
    response = sign_in(client, "owner-a", RIGHT, REMOTE_ADDR="203.0.113.200")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    expected_wait = int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert response.headers["Retry-After"] == str(expected_wait)
    assert not OutstandingToken.objects.exists()


def test_sixty_wrong_passwords_lock_the_account_in_the_admin(client: Client, owner_a: Any) -> None:
    for attempt in range(60):
        admin_sign_in(client, "owner-a", WRONG, REMOTE_ADDR=f"198.51.100.{attempt + 1}")
    response = admin_sign_in(client, "owner-a", RIGHT, REMOTE_ADDR="203.0.113.200")
    assert response.status_code == 429
    assert "Sign-in temporarily locked" in response.content.decode()
    assert response.headers["Retry-After"]
    assert client.get("/admin/").status_code == 302  # not signed in


def test_the_lock_is_shared_by_the_api_and_the_admin(client: Client, owner_a: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "owner-a", WRONG)
    assert admin_sign_in(client, "owner-a", RIGHT, REMOTE_ADDR="203.0.113.9").status_code == 429


def test_guessing_many_accounts_from_one_address_locks_the_address(
    client: Client, owner_a: Any
) -> None:
    for attempt in range(60):
        sign_in(client, f"guess-{attempt}", WRONG, REMOTE_ADDR="192.0.2.66")
    locked = sign_in(client, "owner-a", RIGHT, REMOTE_ADDR="192.0.2.66")
    assert locked.status_code == 429
    assert admin_sign_in(client, "owner-a", RIGHT, REMOTE_ADDR="192.0.2.66").status_code == 429
    # The account itself was never guessed: from elsewhere its owner signs in.
    assert sign_in(client, "owner-a", RIGHT, REMOTE_ADDR="192.0.2.77").status_code == 200


def test_a_forged_forwarded_for_is_no_fresh_address(client: Client, owner_a: Any) -> None:
    for attempt in range(60):  # no trusted proxies: the header is the attacker's own words
        sign_in(
            client,
            f"guess-{attempt}",
            WRONG,
            REMOTE_ADDR="192.0.2.66",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt + 1}",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.66"}
    response = sign_in(
        client, "owner-a", RIGHT, REMOTE_ADDR="192.0.2.66", HTTP_X_FORWARDED_FOR="203.0.113.250"
    )
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(
    client: Client, owner_a: Any, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(
            client,
            f"guess-{attempt}",
            WRONG,
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR="192.0.2.66",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.66"}
    through_proxy = {"REMOTE_ADDR": "10.0.0.5"}
    assert (
        sign_in(
            client, "owner-a", RIGHT, HTTP_X_FORWARDED_FOR="192.0.2.66", **through_proxy
        ).status_code
        == 429
    )
    assert (
        sign_in(
            client, "owner-a", RIGHT, HTTP_X_FORWARDED_FOR="192.0.2.77", **through_proxy
        ).status_code
        == 200
    )


# --- Item 9: write keys act, and the audit log names them -------------------------------


def test_a_write_key_changes_widget_access_and_is_audited(
    client: Client, write_key: str, agent_a: Agent
) -> None:
    response = client.patch(
        f"/api/v2/agents/{agent_a.public_id}/widget",
        {
            "allowedDomains": ["shop.acme.example", "*.acme.example"],
            "customDomain": "chat.acme.example",
            "rateLimits": {"session_per_ip": 300},
        },
        content_type="application/json",
        headers=keyed(write_key),
    )
    assert response.status_code == 200, response.content
    key = ApiKey.objects.get(name="automation")
    entry = AuditEntry.objects.get(action="widget.access_changed")
    assert entry.actor is None and entry.actor_key_id == key.pk
    assert entry.actor_label == f"api-key:ca_{key.prefix}" == entry.actor_display()
    assert set(entry.changes) == {"allowedDomains", "customDomain", "rateLimits"}


def test_a_write_key_publishes_and_is_audited(
    client: Client, write_key: str, agent_a: Agent
) -> None:
    client.patch(
        f"/api/v2/agents/{agent_a.public_id}/widget",
        {"greeting": "Hi from the CMS"},
        content_type="application/json",
        headers=keyed(write_key),
    )
    response = client.post(
        f"/api/v2/agents/{agent_a.public_id}/widget/publish",
        {},
        content_type="application/json",
        headers=keyed(write_key),
    )
    assert response.status_code == 201, response.content
    assert response.json()["createdBy"] is None
    entry = AuditEntry.objects.get(action="widget.published")
    assert entry.actor_label.startswith("api-key:ca_")


def test_a_write_key_remembers_a_fact_naming_itself(
    client: Client, write_key: str, a_objects: dict[str, Model]
) -> None:
    customer = a_objects["customer"]
    response = client.post(
        f"/api/v2/customers/{customer.pk}/memory",
        {"key": "shoe_size", "value": "42"},
        content_type="application/json",
        headers=keyed(write_key),
    )
    assert response.status_code == 201, response.content
    key = ApiKey.objects.get(name="automation")
    fact = CustomerMemory.objects.get(key="shoe_size")
    assert fact.source_ref == f"api-key:ca_{key.prefix}"


def test_a_person_is_still_audited_as_themselves(client: Client, owner_a: Any, agent_a) -> None:
    access = sign_in(client, "owner-a", "pw-owner-a").json()["access"]
    response = client.patch(
        f"/api/v2/agents/{agent_a.public_id}/widget",
        {"allowedDomains": ["shop.acme.example", "www.acme.example"]},
        content_type="application/json",
        headers=bearer(access),
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="widget.access_changed")
    assert entry.actor == owner_a and entry.actor_key_id is None
    assert entry.actor_display() == "owner-a"
