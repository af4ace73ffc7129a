"""Everything held about one customer, as one JSON document (an access request under the
GDPR; `GET /api/v2/customers/<id>/export`, linked from the customer's admin page)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from analytics.models import WidgetEvent
from conversations.models import Conversation, Message
from core.times import iso_utc
from customers.models import Customer

FORMAT = "customeragent.customer-export.v1"


def _profile(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "workspace": customer.workspace.slug,
        "externalId": customer.external_id,
        "verified": customer.is_verified,
        "name": customer.name,
        "email": customer.email,
        "attributes": customer.attributes,
        "createdAt": iso_utc(customer.created_at),
        "lastSeenAt": iso_utc(customer.last_seen_at),
    }


def _conversations(customer: Customer) -> list[dict[str, Any]]:
    rows = (
        Conversation.objects.filter(customer=customer)
        .select_related("agent")
        .prefetch_related("messages")
        .order_by("created_at", "id")
    )
    return [
        {
            "id": conversation.public_id,
            "agentId": conversation.agent.public_id,
            "status": conversation.status,
            "createdAt": iso_utc(conversation.created_at),
            "resolvedAt": iso_utc(conversation.resolved_at),
            "pageUrl": conversation.page_url,
            "origin": conversation.origin,
            "csatScore": conversation.csat_score,
            "csatComment": conversation.csat_comment,
            "messages": [
                {
                    "id": message.public_id,
                    "role": message.role,
                    "text": message.text,
                    "createdAt": iso_utc(message.created_at),
                }
                # Staff's internal notes are the team's working notes, not the customer's.
                for message in sorted(conversation.messages.all(), key=lambda m: m.pk)
                if message.role != Message.Role.NOTE
            ],
        }
        for conversation in rows
    ]


def _events(customer: Customer) -> list[dict[str, Any]]:
    rows = WidgetEvent.objects.filter(
        workspace_id=customer.workspace_id, customer_id=str(customer.pk)
    ).order_by("occurred_at", "id")
    return [
        {
            "event": row.event,
            "agentId": row.agent_id,
            "domain": row.domain,
            "occurredAt": iso_utc(row.occurred_at),
            "metadata": row.metadata,
        }
        for row in rows
    ]


def customer_export(customer: Customer) -> dict[str, Any]:
    """The profile, the identity it was proven by, what the agent remembers, every
    conversation with its messages, and the widget events recorded for them."""
    return {
        "format": FORMAT,
        "exportedAt": iso_utc(timezone.now()),
        "customer": _profile(customer),
        "identities": [{"externalId": customer.external_id, "verified": customer.is_verified}],
        "memory": [
            {
                "key": memory.key,
                "value": memory.value,
                "source": memory.source,
                "sourceRef": memory.source_ref,
                "updatedAt": iso_utc(memory.updated_at),
            }
            for memory in customer.memories.order_by("key", "source", "id")
        ],
        "conversations": _conversations(customer),
        "events": _events(customer),
    }
