from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import generics

from agents.api.serializers import AgentOut
from agents.models import Agent
from security.scoping import scope_to_user


class ScopedQuerysetMixin:
    """The integrator API sees only the caller's workspaces (404 for anything else)."""

    request: object

    def scoped(self, queryset: QuerySet[Agent]) -> QuerySet[Agent]:
        return scope_to_user(queryset, getattr(self.request, "user", None))


class AgentList(ScopedQuerysetMixin, generics.ListAPIView[Agent]):
    serializer_class = AgentOut

    def get_queryset(self) -> QuerySet[Agent]:
        return self.scoped(Agent.objects.select_related("workspace").order_by("name", "id"))


class AgentDetail(ScopedQuerysetMixin, generics.RetrieveAPIView[Agent]):
    serializer_class = AgentOut
    lookup_field = "public_id"
    lookup_url_kwarg = "agent_id"

    def get_queryset(self) -> QuerySet[Agent]:
        return self.scoped(Agent.objects.select_related("workspace"))
