"""What the agent remembers about a customer: where facts come from, who sees and edits them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.contracts import CustomerContext, HistoryItem, Reply
from agents.models import Agent
from conversations import replies, services
from conversations.lifecycle import conversation_status_set
from conversations.models import Conversation, Message
from conversations.parties import Party
from customers.identity import Identity
from customers.models import Customer, CustomerMemory
from customers.profiles import customer_resolve

pytestmark = pytest.mark.django_db


def verified_ana(agent: Agent) -> Customer:
    return customer_resolve(
        workspace_id=agent.workspace_id,
        identity=Identity(
            external_id="cust_ana",
            verified=True,
            name="Ana",
            attributes={"plan": "pro", "lifetimeValue": 1250.5},
            method="token",
        ),
    )


def test_signed_attributes_become_facts_with_their_source(agent: Agent) -> None:
    customer = verified_ana(agent)
    facts = {m.key: (m.value, m.source, m.source_ref) for m in customer.memories.all()}
    assert facts == {
        "plan": ("pro", "signed", "token"),
        "lifetimeValue": ("1250.5", "signed", "token"),
    }
    customer_resolve(
        workspace_id=agent.workspace_id,
        identity=Identity(
            external_id="cust_ana", verified=True, attributes={"plan": "team"}, method="token"
        ),
    )
    assert CustomerMemory.objects.get(customer=customer, key="plan").value == "team"
    assert CustomerMemory.objects.filter(customer=customer).count() == 2


def test_a_resolved_conversation_is_remembered_with_masked_text(agent: Agent) -> None:
    customer = verified_ana(agent)
    party = Party(visitor_id="vis_aaaaaaaaaaaaaaaa", customer_id=customer.pk, verified=True)
    services.message_receive(
        agent=agent,
        party=party,
        client_id="c-1",
        text="My card 4242 4242 4242 4242 was charged twice",
    )
    conversation = Conversation.objects.get()
    conversation_status_set(conversation=conversation, status=Conversation.Status.RESOLVED)
    fact = CustomerMemory.objects.get(customer=customer, source="conversation")
    assert fact.source_ref == conversation.public_id
    assert "charged twice" in fact.value and "4242 4242" not in fact.value
    assert "resolved by the agent" in fact.value


def test_responders_receive_the_customer_and_their_memory(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[CustomerContext | None] = []

    class Recording:
        shows_typing = False

        def respond(
            self,
            *,
            agent: Agent,
            question: str,
            history: list[HistoryItem],
            customer: CustomerContext | None = None,
            conversation_id: str = "",
            owner_key: str = "",
            on_delta: Callable[[str], None] | None = None,
        ) -> Reply:
            seen.append(customer)
            return Reply(text="ok", answered=True)

    monkeypatch.setattr(replies, "responder_for", lambda agent: Recording())
    customer = verified_ana(agent)
    party = Party(visitor_id="vis_aaaaaaaaaaaaaaaa", customer_id=customer.pk, verified=True)
    message = services.message_receive(agent=agent, party=party, client_id="c-1", text="Hi").message
    replies.reply_generate(message_id=message.pk)
    anonymous = services.message_receive(
        agent=agent, party=Party(visitor_id="vis_bbbbbbbbbbbbbbbb"), client_id="c-2", text="Hi"
    ).message
    replies.reply_generate(message_id=anonymous.pk)
    known, unknown = seen
    assert unknown is None
    assert known is not None and known.verified and known.name == "Ana"
    assert {f.key: f.value for f in known.facts}["plan"] == "pro"


def test_staff_see_edit_and_add_memory_in_the_admin(
    client: Client, teammate: Any, agent: Agent
) -> None:
    customer = verified_ana(agent)
    client.force_login(teammate)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "What the agent remembers" in html and "pro" in html
    plan = CustomerMemory.objects.get(customer=customer, key="plan")
    ltv = CustomerMemory.objects.get(customer=customer, key="lifetimeValue")
    prefix = "memories"
    data = {
        "name": "Ana Souza",
        "email": "",
        "attributes": '{"plan": "pro"}',
        f"{prefix}-TOTAL_FORMS": "3",
        f"{prefix}-INITIAL_FORMS": "2",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-id": str(ltv.pk),
        f"{prefix}-0-customer": str(customer.pk),
        f"{prefix}-0-key": "lifetimeValue",
        f"{prefix}-0-value": "1250.5",
        f"{prefix}-0-DELETE": "on",
        f"{prefix}-1-id": str(plan.pk),
        f"{prefix}-1-customer": str(customer.pk),
        f"{prefix}-1-key": "plan",
        f"{prefix}-1-value": "pro (annual)",
        f"{prefix}-2-customer": str(customer.pk),
        f"{prefix}-2-key": "prefers",
        f"{prefix}-2-value": "email over phone",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    facts = {m.key: (m.value, m.source) for m in customer.memories.all()}
    assert facts == {
        "plan": ("pro (annual)", "signed"),
        "prefers": ("email over phone", "staff"),
    }
    assert CustomerMemory.objects.get(key="prefers").source_ref == "teammate"


def test_the_conversation_page_shows_who_and_what_is_remembered(
    client: Client, teammate: Any, agent: Agent
) -> None:
    customer = verified_ana(agent)
    conversation = Conversation.objects.create(
        agent=agent, visitor_id="vis_aaaaaaaaaaaaaaaa", customer=customer
    )
    Message.objects.create(conversation=conversation, role="customer", text="hello")
    client.force_login(teammate)
    html = client.get(
        reverse("admin:conversations_conversation_change", args=[conversation.pk])
    ).content.decode()
    assert "cust_ana" in html and "verified" in html and "plan" in html


def test_another_workspace_cannot_open_the_customer(
    client: Client, outsider: Any, agent: Agent
) -> None:
    customer = verified_ana(agent)
    client.force_login(outsider)
    response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert response.status_code in (302, 404)
    assert "cust_ana" not in response.content.decode()


def test_staff_cannot_rewrite_whose_conversation_it_is(
    client: Client, owner: Any, agent: Agent
) -> None:
    conversation = Conversation.objects.create(agent=agent, visitor_id="vis_aaaaaaaaaaaaaaaa")
    client.force_login(owner)
    url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
    client.post(
        url,
        {
            "status": "bot",
            "owner_key": "c-1",
            "messages-TOTAL_FORMS": "0",
            "messages-INITIAL_FORMS": "0",
        },
    )
    conversation.refresh_from_db()
    assert conversation.owner_key == "v-vis_aaaaaaaaaaaaaaaa"
