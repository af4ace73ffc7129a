"""The conversation list's query parameters, read into typed filters (400 when wrong)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.utils.dateparse import parse_datetime

from conversations.models import Conversation
from conversations.selectors import ConversationFilters
from core.errors import InvalidRequest


def conversation_filters_read(params: Mapping[str, str]) -> ConversationFilters:
    status = params.get("status") or None
    if status is not None and status not in Conversation.Status.values:
        raise InvalidRequest(f"'status' must be one of {', '.join(Conversation.Status)}.")
    customer = params.get("customer") or None
    if customer is not None and not customer.isdigit():
        raise InvalidRequest("'customer' must be a customer id.")
    since = params.get("updatedSince") or None
    return ConversationFilters(
        status=status,
        agent=params.get("agent") or None,
        customer=int(customer) if customer is not None else None,
        assigned=params.get("assigned") or None,
        updated_since=_datetime(since) if since is not None else None,
        text=params.get("q", "").strip(),
    )


def _datetime(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise InvalidRequest("'updatedSince' must be an ISO 8601 date-time with a time zone.")
    return parsed
