"""Customers for integrators: list, read, correct, erase; their conversations and memory.

Every lookup goes through `scope_to_user`, so another workspace's customer or fact answers
a plain 404. Members of any role may read and correct; erasing a customer is for owners
and admins.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.api.customer_serializers import (
    ConversationOut,
    CustomerOut,
    CustomerUpdateIn,
    MemoryCreateIn,
    MemoryOut,
    MemoryUpdateIn,
)
from conversations.customer_export import customer_export
from conversations.models import Conversation
from core.errors import InvalidRequest
from customers.models import Customer, CustomerMemory
from customers.profiles import (
    customer_erase,
    customer_update,
    memory_correct,
    memory_forget,
    memory_remember,
)
from customers.selectors import customers_visible_to
from security.audit import audit_record
from workspaces.permissions import may_manage
from workspaces.scoping import scope_to_user

BOOLEANS = {"true": True, "false": False}


class CustomerScoped(generics.GenericAPIView[Any]):
    """Views under `customers/<customer_id>/`: the customer, or 404 if it is not yours."""

    _customer: Customer | None = None

    def customer(self) -> Customer:
        if self._customer is None:
            user = self.request.user
            customers = scope_to_user(Customer.objects.all(), user)  # type: ignore[arg-type]
            self._customer = get_object_or_404(customers, pk=self.kwargs["customer_id"])
        return self._customer


LIST_FILTERS = [
    OpenApiParameter("verified", bool, description="Only verified (or only unverified)."),
    OpenApiParameter("q", str, description="Part of the external id, email or name."),
    OpenApiParameter("workspace", str, description="A workspace slug."),
]


class CustomerList(generics.ListAPIView[Customer]):
    """The customers of the caller's workspaces, newest first."""

    serializer_class = CustomerOut

    @extend_schema(parameters=LIST_FILTERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Customer]:
        customers = customers_visible_to(self.request.user)  # type: ignore[arg-type]
        params = self.request.query_params
        if "verified" in params:
            verified = BOOLEANS.get(params["verified"].lower())
            if verified is None:
                raise InvalidRequest("'verified' must be true or false.")
            customers = customers.filter(is_verified=verified)
        if search := params.get("q", "").strip():
            customers = customers.filter(
                Q(external_id__icontains=search)
                | Q(email__icontains=search)
                | Q(name__icontains=search)
            )
        if slug := params.get("workspace"):
            customers = customers.filter(workspace__slug=slug)
        return customers


class CustomerDetail(generics.GenericAPIView[Customer]):
    """One customer; `verified` and `externalId` only ever come from the site's tokens."""

    serializer_class = CustomerOut
    lookup_url_kwarg = "customer_id"

    def get_queryset(self) -> QuerySet[Customer]:
        return customers_visible_to(self.request.user)  # type: ignore[arg-type]

    def get(self, request: Request, customer_id: int) -> Response:
        return Response(CustomerOut(self.get_object()).data)

    @extend_schema(request=CustomerUpdateIn, responses=CustomerOut)
    def patch(self, request: Request, customer_id: int) -> Response:
        customer = self.get_object()
        changes = CustomerUpdateIn(data=request.data)
        changes.is_valid(raise_exception=True)
        customer_update(customer, changes=dict(changes.validated_data))
        return Response(CustomerOut(customer).data)

    @extend_schema(
        responses={
            204: OpenApiResponse(description="Erased; their conversations stay, unlinked."),
            403: OpenApiResponse(description="forbidden: only owners and admins may erase"),
        }
    )
    def delete(self, request: Request, customer_id: int) -> Response:
        customer = self.get_object()
        # A person's decision: not even a write key erases a customer.
        if not may_manage(request.user, customer.workspace_id, keys_may=False):
            raise PermissionDenied("Only workspace owners and admins may erase a customer.")
        customer_erase(customer=customer, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerConversationList(CustomerScoped, generics.ListAPIView[Conversation]):
    """The customer's conversations, newest first; transcripts are not included."""

    serializer_class = ConversationOut

    def get_queryset(self) -> QuerySet[Conversation]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no customer
            return Conversation.objects.none()
        conversations = Conversation.objects.filter(customer=self.customer())
        scoped = scope_to_user(conversations, self.request.user)  # type: ignore[arg-type]
        return scoped.select_related("agent").order_by("-created_at", "-id")


class CustomerMemoryList(CustomerScoped, generics.ListAPIView[CustomerMemory]):
    """What the agent remembers about the customer, from every source."""

    serializer_class = MemoryOut

    def get_queryset(self) -> QuerySet[CustomerMemory]:
        if getattr(self, "swagger_fake_view", False):
            return CustomerMemory.objects.none()
        return self.customer().memories.order_by("key", "source", "id")

    @extend_schema(request=MemoryCreateIn, responses={201: MemoryOut})
    def post(self, request: Request, customer_id: int) -> Response:
        fact = MemoryCreateIn(data=request.data)
        fact.is_valid(raise_exception=True)
        memory = memory_remember(
            customer=self.customer(),
            key=fact.validated_data["key"],
            value=fact.validated_data["value"],
            source=CustomerMemory.Source.STAFF,
            source_ref=request.user.get_username(),
        )
        return Response(MemoryOut(memory).data, status=status.HTTP_201_CREATED)


class CustomerMemoryDetail(CustomerScoped):
    """One fact: staff may correct its value or remove it, whatever its source."""

    serializer_class = MemoryOut

    def memory(self) -> CustomerMemory:
        return get_object_or_404(self.customer().memories, pk=self.kwargs["memory_id"])

    @extend_schema(request=MemoryUpdateIn, responses=MemoryOut)
    def patch(self, request: Request, customer_id: int, memory_id: int) -> Response:
        memory = self.memory()
        change = MemoryUpdateIn(data=request.data)
        change.is_valid(raise_exception=True)
        memory_correct(memory, value=change.validated_data["value"])
        return Response(MemoryOut(memory).data)

    @extend_schema(responses={204: OpenApiResponse(description="Forgotten.")})
    def delete(self, request: Request, customer_id: int, memory_id: int) -> Response:
        memory_forget(self.memory())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerExport(CustomerScoped):
    """Everything held about the customer, as one JSON document to hand them (GDPR access):
    profile, identity, memory, conversations with their messages, widget events. Only the
    workspace's owners and admins (and write API keys) may take it; every export is
    audited."""

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The export (customeragent.customer-export.v1): customer, "
                "identities, memory, conversations with messages, events.",
            ),
            403: OpenApiResponse(description="forbidden: only owners and admins may export"),
        }
    )
    def get(self, request: Request, customer_id: int) -> Response:
        customer = self.customer()
        if not may_manage(request.user, customer.workspace_id):
            raise PermissionDenied("Only workspace owners and admins may export a customer.")
        document = customer_export(customer)
        audit_record(
            action="customer.exported",
            target=f"customer {customer.pk}",
            actor=request.user,
            workspace_id=customer.workspace_id,
            changes={"conversations": len(document["conversations"])},
        )
        response = Response(document)
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
        return response
