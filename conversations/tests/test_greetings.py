"""The personalized greeting: computed after the session answer from the customer's memory and
latest order (through the store's real MCP server), remembered, pushed to their widgets and
carried by the next session answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from agents.answering.greetings import LatestOrder, order_read, order_sentence
from agents.integrations.tests.mcp_server import ANA, BEN, Shop, shop_server, store_for
from agents.models import Agent, McpServer, ToolCall
from conftest import SITE_ORIGIN
from conversations.greetings import greeting_refresh, session_greeting
from conversations.tests.test_consumer import connect
from conversations.tests.test_identity_sessions import token_for
from conversations.tests.test_widget_api import start
from customers.keys import identity_secret_rotate
from customers.models import Customer, CustomerMemory
from customers.sessions import session_token_issue
from security.ids import new_visitor_id

pytestmark = pytest.mark.django_db

ANA_GREETING = "Hi Ana — your order #1042 shipped yesterday."


@pytest.fixture(scope="module")
def running_shop() -> Iterator[Shop]:
    with shop_server() as shop:
        yield shop


@pytest.fixture
def store(agent: Agent, running_shop: Shop) -> McpServer:
    running_shop.calls.clear()
    return store_for(agent, running_shop, McpServer.Transport.STREAMABLE_HTTP)


def verified(agent: Agent, external_id: str = ANA, name: str = "Ana Souza") -> Customer:
    return Customer.objects.create(
        workspace=agent.workspace, external_id=external_id, is_verified=True, name=name
    )


def test_a_verified_customer_is_greeted_with_their_latest_order(
    agent: Agent, store: McpServer, running_shop: Shop
) -> None:
    ana = verified(agent)
    assert greeting_refresh(agent_id=agent.pk, customer_id=ana.pk) == ANA_GREETING

    greeting = CustomerMemory.objects.get(customer=ana, key="greeting")
    assert (greeting.value, greeting.source, greeting.source_ref) == (
        ANA_GREETING,
        "integration",
        agent.public_id,
    )
    latest = CustomerMemory.objects.get(customer=ana, key="latest_order")
    assert latest.value.startswith("#1042 shipped (")
    assert running_shop.calls_of("get_customer_orders") == [{"customer_id": ANA}]
    assert ToolCall.objects.get().arguments == {"customer_id": "[verified customer]"}


def test_a_remembered_first_name_wins_and_a_state_has_no_date(
    agent: Agent, store: McpServer
) -> None:
    ben = verified(agent, external_id=BEN, name="Benjamin Stone")
    CustomerMemory.objects.create(customer=ben, key="first_name", value="Ben", source="signed")
    assert (
        greeting_refresh(agent_id=agent.pk, customer_id=ben.pk)
        == "Hi Ben — your order #2001 is being prepared."
    )


def test_without_orders_the_greeting_uses_the_name_alone(agent: Agent, store: McpServer) -> None:
    cleo = verified(agent, external_id="cust_cleo", name="Cleo")
    text = greeting_refresh(agent_id=agent.pk, customer_id=cleo.pk)
    assert text == "Hi Cleo! How can I help you today?"


def test_nobody_unverified_or_from_another_workspace_is_greeted(
    agent: Agent, other_agent: Agent, store: McpServer, running_shop: Shop
) -> None:
    claimed = Customer.objects.create(workspace=agent.workspace, external_id=ANA, name="Ana")
    assert greeting_refresh(agent_id=agent.pk, customer_id=claimed.pk) is None
    assert session_greeting(agent=agent, customer=claimed) is None
    stranger = verified(other_agent)
    assert greeting_refresh(agent_id=agent.pk, customer_id=stranger.pk) is None
    assert running_shop.calls == []
    assert not CustomerMemory.objects.filter(key="greeting").exists()


def test_agents_without_an_order_tool_keep_their_own_greeting(agent: Agent) -> None:
    ana = verified(agent)
    assert session_greeting(agent=agent, customer=ana) is None
    McpServer.objects.create(agent=agent, name="Docs", url="https://docs.example/mcp")
    assert session_greeting(agent=agent, customer=ana) is None


@pytest.mark.django_db(transaction=True)
async def test_the_greeting_is_pushed_to_the_customers_open_widgets(
    agent: Agent, store: McpServer
) -> None:
    ana = await sync_to_async(verified)(agent)
    token = session_token_issue(
        agent_id=agent.public_id,
        visitor_id=new_visitor_id(),
        origin=SITE_ORIGIN,
        customer_id=ana.pk,
        customer_verified=True,
    ).token
    communicator, connected, _ = await connect(token)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "session.ready"

    await sync_to_async(greeting_refresh)(agent_id=agent.pk, customer_id=ana.pk)

    assert await communicator.receive_json_from(timeout=10) == {
        "type": "greeting",
        "text": ANA_GREETING,
    }
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_greeting_computed_before_the_socket_joined_is_sent_on_connect(
    agent: Agent, store: McpServer
) -> None:
    # The order `make run` shows: the session answer, the greeting computed beside it, and
    # only then (the visitor opens the chat) the socket.
    ana = await sync_to_async(verified)(agent)
    await sync_to_async(greeting_refresh)(agent_id=agent.pk, customer_id=ana.pk)
    token = session_token_issue(
        agent_id=agent.public_id,
        visitor_id=new_visitor_id(),
        origin=SITE_ORIGIN,
        customer_id=ana.pk,
        customer_verified=True,
    ).token
    communicator, connected, _ = await connect(token)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "session.ready"
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "greeting",
        "text": ANA_GREETING,
    }
    await communicator.disconnect()
    # An anonymous visitor's socket gets no greeting frame.
    anonymous = session_token_issue(
        agent_id=agent.public_id, visitor_id=new_visitor_id(), origin=SITE_ORIGIN
    ).token
    communicator, connected, _ = await connect(anonymous)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "session.ready"
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_the_session_answer_is_not_delayed_and_the_next_one_carries_the_greeting(
    client: Client, agent: Agent, store: McpServer
) -> None:
    secret = identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)[1]
    first = start(client, agent.public_id, customerToken=token_for(agent, secret, sub=ANA))
    assert first.status_code == 200, first.content
    assert first.json()["config"]["greeting"] == "Hello there!"  # the agent's, for now

    deadline = time.monotonic() + 15
    while not CustomerMemory.objects.filter(key="greeting").exists():
        assert time.monotonic() < deadline, "the greeting task never ran"
        time.sleep(0.1)
    again = start(client, agent.public_id, customerToken=token_for(agent, secret, sub=ANA))
    assert again.json()["config"]["greeting"] == ANA_GREETING
    anonymous = start(client, agent.public_id)
    assert anonymous.json()["config"]["greeting"] == "Hello there!"

    # A stale greeting ("yesterday" may no longer be true) is not shown.
    CustomerMemory.objects.filter(key="greeting").update(
        updated_at=timezone.now() - timedelta(hours=7)
    )
    later = start(client, agent.public_id, customerToken=token_for(agent, secret, sub=ANA))
    assert later.json()["config"]["greeting"] == "Hello there!"


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ({"name": "1042", "fulfillment_status": "fulfilled"}, "your order #1042 shipped."),
        (
            {"number": "#7", "status": "delivered", "deliveredAt": "2025-03-02T10:00:00Z"},
            "your order #7 was delivered on March 2.",
        ),
        (
            {"number": "#8", "status": "shipped", "shippedAt": "2025-03-28T23:00:00+00:00"},
            "your order #8 shipped on Friday.",
        ),
        ({"number": "#9", "status": "in transit"}, "your order #9 is on its way."),
    ],
)
def test_orders_are_read_in_the_stores_usual_spellings(
    order: dict[str, Any], expected: str
) -> None:
    parsed = order_read(order)
    assert parsed is not None
    today = date(2025, 3, 31)
    assert order_sentence(parsed, today=today) == expected


def test_an_order_without_number_or_known_status_is_skipped() -> None:
    assert order_read({"status": "shipped"}) is None
    assert order_read({"number": "#1", "status": "mystery"}) is None
    assert isinstance(order_read({"number": 12, "status": "paid"}), LatestOrder)
