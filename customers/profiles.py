"""Customers as staff and responders see them: who they are and what the agent remembers.

A verified customer's row holds only what a signed token (or the site's verified page)
said; claims a page made about itself go to a separate, unverified row, so nobody can
read or overwrite a verified customer's data by claiming their id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import InvalidRequest
from customers.identity import Identity
from customers.models import Customer, CustomerMemory
from security.audit import audit_record

MAX_MEMORY_VALUE = 2000


@dataclass(frozen=True)
class Fact:
    key: str
    value: str
    source: str
    source_ref: str
    updated_at: str


def customer_resolve(
    *,
    workspace_id: int,
    identity: Identity,
    on_created: Callable[[Customer], None] | None = None,
) -> Customer:
    """The customer row for `identity` (created on first sight, then `on_created` is told),
    with its claims applied."""
    lookup = {
        "workspace_id": workspace_id,
        "external_id": identity.external_id,
        "is_verified": identity.verified,
    }
    customer = Customer.objects.filter(**lookup).first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(**lookup)
        except IntegrityError:  # the customer's other tab created it just now
            customer = Customer.objects.get(**lookup)
        else:
            if on_created is not None:
                on_created(customer)
    changed: dict[str, Any] = {"last_seen_at": timezone.now()}
    if identity.email and identity.email != customer.email:
        changed["email"] = identity.email
    if identity.name and identity.name != customer.name:
        changed["name"] = identity.name
    if identity.attributes:
        changed["attributes"] = {**customer.attributes, **identity.attributes}
    Customer.objects.filter(pk=customer.pk).update(**changed)
    for name, value in changed.items():
        setattr(customer, name, value)
    if identity.attributes:
        _remember_attributes(customer, identity)
    return customer


def _remember_attributes(customer: Customer, identity: Identity) -> None:
    # Only a token signs its attributes; a userHash proves the id alone, so the attributes
    # sent beside it are the page's word (about the customer's own record).
    signed = identity.verified and identity.method == "token"
    for key, value in identity.attributes.items():
        memory_remember(
            customer=customer,
            key=key,
            value=value,
            source=CustomerMemory.Source.SIGNED if signed else CustomerMemory.Source.CLAIMED,
            source_ref="token" if signed else "page",
        )


def _as_text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text[:MAX_MEMORY_VALUE]


def memory_remember(
    *, customer: Customer, key: str, value: object, source: str, source_ref: str = ""
) -> CustomerMemory:
    """Store (or update) one fact; the same key from the same source is one fact."""
    key = key.strip()[:100]
    if not key:
        raise InvalidRequest("A memory needs a key.")
    if source not in CustomerMemory.Source.values:
        raise InvalidRequest(f"Unknown memory source {source!r}.")
    memory, _ = CustomerMemory.objects.update_or_create(
        customer=customer,
        source=source,
        key=key,
        defaults={"value": _as_text(value), "source_ref": source_ref[:120]},
    )
    return memory


def memory_correct(
    memory: CustomerMemory, *, value: object, key: str | None = None
) -> CustomerMemory:
    """A person corrects what is remembered (whatever its source, which stays on record)."""
    fields = ["value", "updated_at"]
    memory.value = _as_text(value)
    if key is not None:
        key = key.strip()[:100]
        if not key:
            raise InvalidRequest("A memory needs a key.")
        memory.key = key
        fields.append("key")
    memory.save(update_fields=fields)
    return memory


def memory_forget(memory: CustomerMemory) -> None:
    """A person removes a fact (whatever its source); the agent no longer knows it."""
    memory.delete()


def customer_update(customer: Customer, *, changes: dict[str, Any]) -> Customer:
    """Staff change what a customer is called or carries (validated by the caller's form:
    name, email, attributes); who they are (external id, verification) is the site's."""
    editable = {"name", "email", "attributes"}
    if not set(changes) <= editable:
        raise InvalidRequest(f"Only {', '.join(sorted(editable))} can be changed.")
    if changes:
        for name, value in changes.items():
            setattr(customer, name, value)
        customer.save(update_fields=list(changes))
    return customer


def customer_facts(customer_id: int | None, *, limit: int = 50) -> list[Fact]:
    """What a responder may know about the customer, newest first; verified facts only
    come from verified customers (claims stay marked as claims)."""
    if customer_id is None:
        return []
    rows = CustomerMemory.objects.filter(customer_id=customer_id).order_by("-updated_at")[:limit]
    return [
        Fact(
            key=row.key,
            value=row.value,
            source=row.source,
            source_ref=row.source_ref,
            updated_at=row.updated_at.isoformat(),
        )
        for row in rows
    ]


def customer_erase(*, customer: Customer, by: Any) -> None:
    """Delete the customer and their memory (the GDPR erasure path).

    Their conversations stay, unlinked (`customer` becomes null): transcripts are kept
    until someone deletes them separately. The audit entry holds no personal data.
    """
    with transaction.atomic():
        audit_record(
            action="customer.erased",
            target=f"customer {customer.pk}",
            actor=by,
            workspace_id=customer.workspace_id,
            changes={
                "verified": customer.is_verified,
                "memories": customer.memories.count(),
                "conversationsUnlinked": customer.conversations.count(),
            },
        )
        customer.delete()
