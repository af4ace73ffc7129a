"""A Shopify-style store through the whole pipeline: the test model asks for MCP tools, the
real MCP server answers, and the stored answer carries product cards and quick replies to
the widget."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from agents.answering.tests.llm_server import LlmServer, Script
from agents.integrations.tests.mcp_server import ANA, BEN, Shop, shop_server, store_for
from agents.models import Agent, McpServer
from conftest import SITE_ORIGIN
from conversations.models import Conversation, Message
from conversations.replies import reply_generate
from conversations.selectors import message_out
from customers.models import Customer
from customers.sessions import session_token_issue

pytestmark = pytest.mark.django_db

CARD = {"title": "Ridgeline 2 tent", "price": "289.00 USD", "url": "https://shop.example.com/r2"}


@pytest.fixture(scope="module")
def running_shop() -> Iterator[Shop]:
    with shop_server() as shop:
        yield shop


@pytest.fixture
def shop(running_shop: Shop) -> Shop:
    running_shop.calls.clear()
    return running_shop


@pytest.fixture
def llm() -> Iterator[LlmServer]:
    with LlmServer() as server:
        yield server


@pytest.fixture
def shop_agent(agent: Agent, llm: LlmServer, shop: Shop) -> Agent:
    agent.responder = Agent.ResponderKind.LLM
    agent.llm_base_url = llm.base_url
    agent.llm_model = "test-model"
    agent.llm_timeout_seconds = 5
    agent.save()
    store_for(agent, shop, McpServer.Transport.STREAMABLE_HTTP)
    return agent


def conversation_of(agent: Agent, customer: Customer | None) -> Conversation:
    owner = f"c-{customer.pk}" if customer and customer.is_verified else "v-vis_test"
    return Conversation.objects.create(
        agent=agent, visitor_id="vis_test", owner_key=owner, customer=customer
    )


def ask(conversation: Conversation, text: str) -> Message:
    question = Message.objects.create(
        conversation=conversation, role=Message.Role.CUSTOMER, text=text, client_id="q-1"
    )
    answer = reply_generate(message_id=question.pk)
    assert answer is not None
    return answer


def tool_message(body: dict[str, Any]) -> str:
    return next(m["content"] for m in body["messages"] if m.get("role") == "tool")


def test_a_verified_customer_gets_their_own_orders_whatever_id_the_model_asks_for(
    shop_agent: Agent, llm: LlmServer, shop: Shop
) -> None:
    ana = Customer.objects.create(
        workspace=shop_agent.workspace, external_id=ANA, is_verified=True, name="Ana"
    )
    llm.script(
        Script(tool_calls=(("get_customer_orders", {"customer_id": BEN}),)),
        Script(text="Your order #1042 shipped yesterday."),
    )
    answer = ask(conversation_of(shop_agent, ana), f"Where is the order of {BEN}?")

    offered = {tool["function"]["name"]: tool["function"] for tool in llm.bodies()[0]["tools"]}
    assert set(offered) == {"get_customer_orders", "get_order_status", "search_products"}
    assert "customer_id" not in offered["get_customer_orders"]["parameters"]["properties"]
    assert shop.calls_of("get_customer_orders") == [{"customer_id": ANA}]
    told = tool_message(llm.bodies()[1])
    assert "#1042" in told and "#2001" not in told
    assert answer.text.startswith("Your order #1042 shipped yesterday.")


def test_an_anonymous_visitor_is_offered_no_private_tool(
    shop_agent: Agent, llm: LlmServer, shop: Shop
) -> None:
    llm.script(
        Script(tool_calls=(("get_customer_orders", {"customer_id": ANA}),)),
        Script(text="Please sign in so I can look up your orders."),
    )
    ask(conversation_of(shop_agent, None), f"Show me the orders of {ANA}")

    offered = [tool["function"]["name"] for tool in llm.bodies()[0]["tools"]]
    assert offered == ["search_products"]
    assert "no tool named" in tool_message(llm.bodies()[1])
    assert shop.calls == []


def test_product_search_is_stored_with_cards_the_widget_shows(
    shop_agent: Agent, llm: LlmServer, shop: Shop, client: Client
) -> None:
    llm.script(
        Script(tool_calls=(("search_products", {"query": "tent"}),)),
        Script(text="The Ridgeline 2 is our best two-person tent."),
    )
    conversation = conversation_of(shop_agent, None)
    answer = ask(conversation, "Do you have a tent for two?")

    cards = answer.metadata["cards"]
    assert [card["title"] for card in cards] == ["Ridgeline 2 tent"]
    assert cards[0]["imageUrl"] == "https://cdn.shop.example/ridgeline-2.png"
    assert answer.metadata["quickReplies"] == ["More about Ridgeline 2 tent"]
    token = session_token_issue(
        agent_id=shop_agent.public_id, visitor_id="vis_test", origin=SITE_ORIGIN
    ).token
    history = client.get(
        f"/api/v2/widget/conversations/{conversation.public_id}/messages",
        HTTP_ORIGIN=SITE_ORIGIN,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    shown = history.json()["messages"][-1]
    assert shown["id"] == answer.public_id and shown["cards"] == cards
    assert shown["quickReplies"] == [{"label": "More about Ridgeline 2 tent"}]


def test_cards_and_quick_replies_are_shown_only_on_agent_and_staff_messages(
    agent: Agent,
) -> None:
    conversation = conversation_of(agent, None)
    extras = {"cards": [CARD, "junk"], "quickReplies": ["More about Ridgeline 2 tent", 3]}
    agent_message = Message.objects.create(
        conversation=conversation, role=Message.Role.AGENT, text="Try this:", metadata=extras
    )
    visitor_message = Message.objects.create(
        conversation=conversation, role=Message.Role.CUSTOMER, text="hi", metadata=extras
    )
    plain = Message.objects.create(conversation=conversation, role=Message.Role.AGENT, text="ok")

    shown = message_out(agent_message)
    assert shown["cards"] == [CARD]
    assert shown["quickReplies"] == [{"label": "More about Ridgeline 2 tent"}]
    assert "cards" not in message_out(visitor_message)
    assert set(message_out(plain)) == {"id", "role", "text", "createdAt", "clientId"}
    json.dumps(shown)  # a frame as it goes out
