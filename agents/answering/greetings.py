"""The personalized greeting: "Hi Ana — your order #1042 shipped yesterday."

Built for a verified customer from what the agent remembers about them and their latest
order, read through the private order tool of a preset MCP server (so the verified-customer
rule and the call log apply exactly as in a conversation).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from agents.contracts import CustomerContext, ToolContext
from agents.integrations.presets import orders_tool_of
from agents.integrations.tools import McpTool, mcp_tools_for
from agents.models import Agent, McpServer

logger = logging.getLogger(__name__)

STATUS_WORDS = {
    "shipped": "shipped",
    "fulfilled": "shipped",
    "in_transit": "is on its way",
    "out_for_delivery": "is out for delivery",
    "delivered": "was delivered",
    "processing": "is being prepared",
    "unfulfilled": "is being prepared",
    "pending": "is being prepared",
    "paid": "is being prepared",
    "cancelled": "was cancelled",
    "canceled": "was cancelled",
    "refunded": "was refunded",
}
# Statuses that happened on a date ("shipped yesterday"), not states ("is being prepared").
DATED = {"shipped", "was delivered", "was cancelled", "was refunded"}
DATE_FIELDS = (
    "shippedAt",
    "shipped_at",
    "fulfilledAt",
    "fulfilled_at",
    "deliveredAt",
    "delivered_at",
    "cancelledAt",
    "updatedAt",
    "updated_at",
    "processedAt",
    "createdAt",
    "created_at",
)


@dataclass(frozen=True)
class LatestOrder:
    number: str
    status: str  # as said in a sentence: "shipped", "is being prepared"
    happened_on: date | None


@dataclass(frozen=True)
class Greeting:
    text: str
    order: LatestOrder | None


def greeting_possible(agent: Agent) -> bool:
    """Whether the agent has an active server whose preset can read a customer's orders."""
    servers = McpServer.objects.filter(agent=agent, is_active=True)
    return any(orders_tool_of(server) for server in servers)


def personal_greeting(
    *, agent: Agent, customer: CustomerContext, today: date | None = None
) -> Greeting | None:
    """The greeting for a verified customer, or None when there is nothing personal to say."""
    if not customer.verified:
        return None
    name = first_name(customer)
    order = latest_order(agent=agent, customer=customer)
    if order is None:
        return Greeting(text=f"Hi {name}! How can I help you today?", order=None) if name else None
    said = order_sentence(order, today=today or datetime.now(UTC).date())
    return Greeting(text=f"Hi {name} — {said}" if name else f"Hi — {said}", order=order)


def first_name(customer: CustomerContext) -> str:
    # Facts come newest first; the newest of each key wins.
    remembered = {fact.key.lower(): fact.value for fact in reversed(customer.facts)}
    name = remembered.get("first_name") or remembered.get("firstname") or customer.name
    return name.strip().split(" ")[0][:40] if name.strip() else ""


def latest_order(*, agent: Agent, customer: CustomerContext) -> LatestOrder | None:
    for tool in mcp_tools_for(agent, customer):
        if tool.spec.name != orders_tool_of(tool.server):
            continue
        result = _orders_tool_call(tool, agent=agent, customer=customer)
        if result is not None:
            return result
    return None


def _orders_tool_call(
    tool: McpTool, *, agent: Agent, customer: CustomerContext
) -> LatestOrder | None:
    context = ToolContext(agent=agent, conversation_public_id="", customer=customer)
    _, outcome = tool.run({}, context)
    if outcome is None or not outcome.ok:
        return None
    data = outcome.data
    orders = data.get("orders") if isinstance(data, dict) else data
    if not isinstance(orders, list):
        return None
    for order in orders:
        if isinstance(order, dict):
            parsed = order_read(order)
            if parsed is not None:
                return parsed
    return None


def order_read(order: dict[str, Any]) -> LatestOrder | None:
    """An order as the store describes it (common spellings accepted)."""
    number = str(
        order.get("number") or order.get("name") or order.get("order_number") or ""
    ).strip()
    raw_status = str(
        order.get("status")
        or order.get("fulfillmentStatus")
        or order.get("fulfillment_status")
        or order.get("financial_status")
        or ""
    )
    status = STATUS_WORDS.get(raw_status.strip().lower().replace(" ", "_"))
    if not number or status is None:
        return None
    if not number.startswith("#") and number.isdigit():
        number = f"#{number}"
    return LatestOrder(number=number[:30], status=status, happened_on=_first_date(order))


def order_sentence(order: LatestOrder, *, today: date) -> str:
    sentence = f"your order {order.number} {order.status}"
    if order.status in DATED and order.happened_on is not None:
        days = (today - order.happened_on).days
        if days == 0:
            sentence += " today"
        elif days == 1:
            sentence += " yesterday"
        elif 1 < days < 7:
            sentence += f" on {order.happened_on.strftime('%A')}"
        elif days >= 7:
            sentence += f" on {order.happened_on.strftime('%B')} {order.happened_on.day}"
    return sentence + "."


def _first_date(order: dict[str, Any]) -> date | None:
    for name in DATE_FIELDS:
        value = order.get(name)
        if isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return (moment.astimezone(UTC) if moment.tzinfo else moment).date()
    return None
