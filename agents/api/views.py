from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import generics

from agents.api.serializers import AgentOut
from agents.models import Agent
from workspaces.scoping import scope_to_user


class AgentList(generics.ListAPIView[Agent]):
    """The caller's agents, across the workspaces they belong to."""

    serializer_class = AgentOut

    def get_queryset(self) -> QuerySet[Agent]:
        agents = Agent.objects.select_related("workspace").order_by("name", "id")
        return scope_to_user(agents, self.request.user)  # type: ignore[arg-type]


class AgentDetail(generics.RetrieveAPIView[Agent]):
    """One agent by public id; another workspace's agent is a plain 404."""

    serializer_class = AgentOut
    lookup_field = "public_id"
    lookup_url_kwarg = "agent_id"

    def get_queryset(self) -> QuerySet[Agent]:
        agents = Agent.objects.select_related("workspace")
        return scope_to_user(agents, self.request.user)  # type: ignore[arg-type]
