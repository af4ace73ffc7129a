"""A verified customer's personalized greeting, computed without delaying the widget's load.

The session answer carries the greeting computed last time (when it is recent); after the
answer, a Celery task computes a fresh one (agents.answering.greetings: memory + latest order
through the store's MCP server), remembers it as a CustomerMemory fact and pushes it to the
customer's open widgets as a `greeting` frame.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from agents.answering.greetings import greeting_possible, personal_greeting
from agents.contracts import CustomerContext
from agents.models import Agent
from conversations.realtime import broadcast
from conversations.task_names import GREETING_TASK
from core.task_queue import task_enqueue
from customers.models import Customer, CustomerMemory
from customers.profiles import customer_facts, memory_remember
from customers.sessions import conversation_owner_key

logger = logging.getLogger(__name__)

GREETING_FACT = "greeting"
LATEST_ORDER_FACT = "latest_order"
# At most one refresh per customer and agent in this time, however many pages they open.
REFRESH_SECONDS = 600
# Older greetings are not shown: "shipped yesterday" goes stale.
FRESH_FOR = timedelta(hours=6)


def session_greeting(*, agent: Agent, customer: Customer | None) -> str | None:
    """The greeting to put in this session's config (None: the agent's own), and a refresh
    queued for after the answer. Only for verified customers of agents that can read orders."""
    if customer is None or not customer.is_verified or not greeting_possible(agent):
        return None
    remembered = greeting_remembered(agent=agent, customer_id=customer.pk)
    due_key = f"greeting:due:{agent.pk}:{customer.pk}"
    if cache.add(due_key, 1, REFRESH_SECONDS):
        agent_id, customer_id = agent.pk, customer.pk
        transaction.on_commit(
            lambda: task_enqueue(GREETING_TASK, agent_id, customer_id), robust=True
        )
    return remembered


def greeting_remembered(*, agent: Agent, customer_id: int) -> str | None:
    cutoff = timezone.now() - FRESH_FOR
    for fact in customer_facts(customer_id):
        if (
            fact.key == GREETING_FACT
            and fact.source == CustomerMemory.Source.INTEGRATION
            and fact.source_ref == agent.public_id
            and datetime.fromisoformat(fact.updated_at) >= cutoff
        ):
            return fact.value
    return None


def greeting_refresh(*, agent_id: int, customer_id: int) -> str | None:
    """Compute, remember and push the customer's greeting; None when there is none."""
    agent = Agent.objects.filter(pk=agent_id, is_active=True).first()
    customer = Customer.objects.filter(pk=customer_id, is_verified=True).first()
    if agent is None or customer is None or customer.workspace_id != agent.workspace_id:
        return None
    greeting = personal_greeting(agent=agent, customer=CustomerContext.of(customer))
    if greeting is None:
        return None
    remembered = {
        "source": CustomerMemory.Source.INTEGRATION,
        "source_ref": agent.public_id,
    }
    memory_remember(customer=customer, key=GREETING_FACT, value=greeting.text, **remembered)
    if greeting.order is not None:
        order = greeting.order
        when = f" ({order.happened_on.isoformat()})" if order.happened_on else ""
        memory_remember(
            customer=customer,
            key=LATEST_ORDER_FACT,
            value=f"{order.number} {order.status}{when}",
            **remembered,
        )
    broadcast.broadcast_greeting(
        agent_public_id=agent.public_id,
        owner_key=conversation_owner_key(visitor_id="", customer_id=customer.pk, verified=True),
        text=greeting.text,
    )
    logger.info("greeting refreshed for customer %s of %s", customer.pk, agent.public_id)
    return greeting.text
