"""Reads of customers for staff and integrators, always scoped to the user's workspaces."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from customers.models import Customer
from workspaces.scoping import ScopedUser, scope_to_user


def customers_visible_to(user: ScopedUser | None) -> QuerySet[Customer]:
    customers = Customer.objects.select_related("workspace").annotate(
        conversation_count=Count("conversations", distinct=True)
    )
    return scope_to_user(customers, user).order_by("-created_at", "-id")
