"""The API's OpenAPI schema tells the truth: schemathesis drives every operation of the
schema that `/api/v2/schema/` serves against the app itself, as real principals, with real
objects behind the path parameters, and checks each answer against what the schema declares.

Principals: a staff owner's JWT (every phase, 10 fuzzed examples per operation), and a
write and a read-only API key (4 each, no coverage phase: they differ in who may do what,
not in shapes). The public widget endpoints are called from an allowed Origin with a real
visitor session. The run is bounded and repeatable: a fixed seed, deterministic
generation, no Hypothesis database. Every example runs in a savepoint that is rolled back,
so each one meets the same world (a DELETE does not starve the next example).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agents.models import Agent, McpServer
from config.wsgi import application
from conversations.models import Conversation, Message
from customers.models import Customer, CustomerMemory
from customers.sessions import conversation_owner_key
from experiments.services import VariantIn, experiment_create
from security.ratelimit import rate_limits_reset
from security.sealing import seal
from webhooks.models import WebhookEndpoint
from widgets.publishing.releases import widget_publish
from workspaces.api_keys import api_key_issue

SEED = 1313
SITE_ORIGIN = "https://shop.example.com"
SCHEMA_URL = "/api/v2/schema/?format=json"


def _config(*, examples: int, coverage: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": examples, "deterministic": True, "database": "none"},
            # The coverage phase sends each parameter's boundary and wrong-type values.
            "phases": {"coverage": {"enabled": coverage}},
            # A refused body is refused whether it is malformed (400) or too large (413).
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429]
                }
            },
        }
    )


# The owner gets the whole run; API keys differ in who may do what, not in the shapes.
schema = schemathesis.openapi.from_wsgi(
    SCHEMA_URL, application, config=_config(examples=10, coverage=True)
)
key_schema = schemathesis.openapi.from_wsgi(
    SCHEMA_URL, application, config=_config(examples=4, coverage=False)
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@dataclass
class World:
    """Real objects for every path parameter, and the credentials of each principal."""

    path_parameters: dict[str, Any]
    credentials: dict[str, str]
    session_token: str
    refresh_token: str


@pytest.fixture
def _app_keeps_the_test_connection(world: World) -> Iterator[None]:
    """Django closes "old" connections around each request; the test's connection holds
    the test transaction. (After `world`: Django's test client, which it uses, connects
    the receivers again when it is done.)"""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def _no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated URLs (MCP servers) name hosts anywhere: only this machine is resolved."""
    resolve = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise socket.gaierror(socket.EAI_NONAME, "not resolved in tests")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


@pytest.fixture
def world(agent: Agent, owner: Any, client: Any, _no_dns: None) -> World:
    server = McpServer.objects.create(
        agent=agent, name="Orders", url="https://mcp.example.com/mcp", allowed_tools=["orders"]
    )
    widget_publish(agent=agent, by=owner, note="first")
    customer = Customer.objects.create(
        workspace=agent.workspace,
        external_id="user-1001",
        is_verified=True,
        email="ada@example.com",
        name="Ada",
        attributes={"plan": "pro"},
    )
    fact = CustomerMemory.objects.create(
        customer=customer, key="size", value="M", source="staff", source_ref="owner"
    )
    experiment = experiment_create(
        agent=agent,
        key="greeting-test",
        name="Greeting",
        variants=[VariantIn("control", 50, {}), VariantIn("warm", 50, {"greeting": "Hi!"})],
    )
    started = client.post(
        "/api/v2/widget/session",
        data={"agentId": agent.public_id},
        content_type="application/json",
        headers={"origin": SITE_ORIGIN},
    ).json()
    visitor_conversation = Conversation.objects.create(
        agent=agent,
        visitor_id=started["visitorId"],
        owner_key=conversation_owner_key(visitor_id=started["visitorId"], customer_id=None),
        customer=customer,
        origin=SITE_ORIGIN,
        status="waiting",
    )
    Message.objects.create(conversation=visitor_conversation, role="customer", text="Hello?")
    Message.objects.create(conversation=visitor_conversation, role="note", text="VIP", author=owner)
    webhook = WebhookEndpoint.objects.create(
        workspace=agent.workspace,
        url="https://hooks.example.com/customeragent",
        events=["message.created"],
        sealed_secret=seal("whsec_contract"),
    )
    write_key = api_key_issue(workspace_id=agent.workspace_id, name="automation", can_write=True)
    read_key = api_key_issue(workspace_id=agent.workspace_id, name="reporting", can_write=False)
    return World(
        path_parameters={
            "agent_id": agent.public_id,
            "article_id": agent.articles.order_by("id").values_list("id", flat=True).first(),
            "server_id": server.pk,
            "version": 1,
            "customer_id": customer.pk,
            "memory_id": fact.pk,
            "conversation_id": visitor_conversation.public_id,
            "experiment_id": experiment.pk,
            "webhook_id": webhook.public_id,
        },
        credentials={
            "owner_jwt": f"Bearer {AccessToken.for_user(owner)}",
            "write_key": f"Api-Key {write_key[1]}",
            "read_only_key": f"Api-Key {read_key[1]}",
        },
        session_token=started["token"],
        refresh_token=started["refreshToken"],
    )


def _aim(case: Any, world: World, principal: str) -> None:
    """Point the generated case at real objects, as the principal.

    Edits are made in place and `case.meta` is read afterwards, so that schemathesis
    re-checks what is actually sent: a negative case whose only flaw was overwritten here
    (a malformed id, a missing Authorization) counts as the positive case it has become.
    """
    unknown = set(case.path_parameters or {}) - set(world.path_parameters)
    assert not unknown, f"Give the contract test a real object for {sorted(unknown)}"
    if not _negative_in(case, "path"):  # a malformed id is left for the server to refuse
        for name in case.path_parameters or {}:
            case.path_parameters[name] = world.path_parameters[name]
    if case.path.startswith("/api/v2/widget/"):
        case.headers["Origin"] = SITE_ORIGIN
        if isinstance(case.body, dict):
            real = {
                "agentId": world.path_parameters["agent_id"],
                "refreshToken": world.refresh_token,
                "token": world.session_token,
            }
            for name in set(real) & set(case.body):
                case.body[name] = real[name]
        if case.path != "/api/v2/widget/session/refresh":
            case.headers["Authorization"] = f"Bearer {world.session_token}"
    else:
        case.headers["Authorization"] = world.credentials[principal]
    case.meta  # noqa: B018  (reading it re-validates the edited case)


def _negative_in(case: Any, location: str) -> bool:
    meta = case.meta
    components = meta.components.items() if meta is not None else ()
    return any(place == location and info.mode.is_negative for place, info in components)


def _call_and_validate(case: Any, world: World, principal: str) -> None:
    _aim(case, world, principal)
    rate_limits_reset()
    with transaction.atomic():
        case.call_and_validate(checks=CHECKS)
        transaction.set_rollback(True)


# Function-scoped fixtures are shared by a test's examples on purpose: each example runs in a
# savepoint that is rolled back.
SHARED_WORLD = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.usefixtures("_app_keeps_the_test_connection")
@schema.parametrize()
@SHARED_WORLD
def test_every_operation_answers_the_owner_as_its_schema_says(case: Any, world: World) -> None:
    _call_and_validate(case, world, "owner_jwt")


@pytest.mark.usefixtures("_app_keeps_the_test_connection")
@pytest.mark.parametrize("principal", ["write_key", "read_only_key"])
@key_schema.parametrize()
@SHARED_WORLD
def test_every_operation_answers_api_keys_as_its_schema_says(
    case: Any, world: World, principal: str
) -> None:
    _call_and_validate(case, world, principal)


def _responses() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", status, response)
        for path, operations in schema.raw_schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
    ]


def test_every_error_answer_is_the_error_shape() -> None:
    wrong = [
        (operation, status)
        for operation, status, response in _responses()
        if status >= "400"
        and response.get("content", {}).get("application/json", {}).get("schema")
        != {"$ref": "#/components/schemas/Error"}
    ]
    assert wrong == []


def test_every_answer_with_a_body_declares_it() -> None:
    bare = [
        (operation, status)
        for operation, status, response in _responses()
        if status < "400"
        and status != "204"
        and not response.get("content", {}).get("application/json", {}).get("schema")
    ]
    assert bare == []


def test_every_operation_that_needs_a_principal_says_how_it_refuses() -> None:
    silent = [
        f"{method.upper()} {path}"
        for path, operations in schema.raw_schema["paths"].items()
        for method, operation in operations.items()
        if not path.startswith(("/api/v2/widget/", "/api/v2/auth/"))
        and not {"401", "403"} <= set(operation["responses"])
    ]
    assert silent == []
