"""Knowledge articles and MCP server configs of an agent, for integrators.

Under `/api/v2/agents/<agent id>/`: members read, the workspace's owners and admins write.
Another workspace's agent, article or server is a plain 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from agents.integrations.mcp import mcp_url_problem
from agents.models import Agent, KnowledgeArticle, McpServer
from core.typed_input import TypedInput
from security.sealing import seal
from workspaces.permissions import may_manage
from workspaces.scoping import scope_to_user

MAX_HEADERS = 20


class ArticleIO(TypedInput, serializers.ModelSerializer[KnowledgeArticle]):
    sourceUrl = serializers.URLField(source="source_url", required=False, allow_blank=True)
    isPublished = serializers.BooleanField(source="is_published", required=False)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = KnowledgeArticle
        fields = ["id", "title", "body", "sourceUrl", "isPublished", "createdAt", "updatedAt"]
        read_only_fields = ["id"]


class McpServerIO(TypedInput, serializers.ModelSerializer[McpServer]):
    allowedTools = serializers.ListField(
        source="allowed_tools", child=serializers.CharField(max_length=120), required=False
    )
    privateTools = serializers.ListField(
        source="private_tools", child=serializers.CharField(max_length=120), required=False
    )
    customerIdArgument = serializers.CharField(
        source="customer_id_argument", max_length=60, required=False
    )
    timeoutSeconds = serializers.IntegerField(
        source="timeout_seconds", min_value=1, max_value=60, required=False
    )
    isActive = serializers.BooleanField(source="is_active", required=False)
    headers = serializers.DictField(
        child=serializers.CharField(max_length=2000),
        write_only=True,
        required=False,
        help_text="Auth headers sent to the server; stored sealed and never shown again.",
    )
    hasHeaders = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = McpServer
        fields = [
            "id",
            "name",
            "url",
            "transport",
            "preset",
            "allowedTools",
            "privateTools",
            "customerIdArgument",
            "timeoutSeconds",
            "isActive",
            "headers",
            "hasHeaders",
            "createdAt",
        ]
        read_only_fields = ["id"]

    def get_hasHeaders(self, server: McpServer) -> bool:  # noqa: N802 (the API's field name)
        return bool(server.sealed_headers)

    def validate_url(self, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise serializers.ValidationError("Use an http(s) URL.")
        problem = mcp_url_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_headers(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_HEADERS:
            raise serializers.ValidationError(f"At most {MAX_HEADERS} headers.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        headers = attrs.pop("headers", None)
        if headers is not None:
            attrs["sealed_headers"] = seal(json.dumps(headers)) if headers else ""
        allowed = attrs.get("allowed_tools", getattr(self.instance, "allowed_tools", []))
        private = attrs.get("private_tools", getattr(self.instance, "private_tools", []))
        if not set(private) <= set(allowed):
            raise serializers.ValidationError(
                {"privateTools": "Private tools must also be allowed tools."}
            )
        return attrs


class AgentScoped(generics.GenericAPIView[Any]):
    """Views under an agent: the agent if the caller belongs to its workspace, else 404."""

    def agent(self) -> Agent:
        if not hasattr(self, "_agent"):
            agents = scope_to_user(Agent.objects.all(), self.request.user)  # type: ignore[arg-type]
            self._agent = get_object_or_404(agents, public_id=self.kwargs["agent_id"])
        return self._agent

    def check_write(self, request: Request) -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS") and not may_manage(
            request.user, self.agent().workspace_id
        ):
            raise PermissionDenied("Only the workspace's owners and admins may change this.")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            self.check_write(request)


class ArticleList(AgentScoped, generics.ListCreateAPIView[KnowledgeArticle]):
    """The agent's knowledge articles (what the knowledge responder and the model cite)."""

    serializer_class = ArticleIO

    def get_queryset(self) -> QuerySet[KnowledgeArticle]:
        if getattr(self, "swagger_fake_view", False):
            return KnowledgeArticle.objects.none()
        return self.agent().articles.order_by("title", "id")

    def perform_create(self, serializer: Any) -> None:
        serializer.save(agent=self.agent())


class ArticleDetail(AgentScoped, generics.RetrieveUpdateDestroyAPIView[KnowledgeArticle]):
    serializer_class = ArticleIO
    lookup_url_kwarg = "article_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[KnowledgeArticle]:
        if getattr(self, "swagger_fake_view", False):
            return KnowledgeArticle.objects.none()
        return self.agent().articles.all()


class McpServerList(AgentScoped, generics.ListCreateAPIView[McpServer]):
    """The agent's MCP servers (integrations); auth headers are write-only."""

    serializer_class = McpServerIO

    def get_queryset(self) -> QuerySet[McpServer]:
        if getattr(self, "swagger_fake_view", False):
            return McpServer.objects.none()
        return self.agent().mcp_servers.order_by("name", "id")

    def perform_create(self, serializer: Any) -> None:
        serializer.save(agent=self.agent())


class McpServerDetail(AgentScoped, generics.RetrieveUpdateDestroyAPIView[McpServer]):
    serializer_class = McpServerIO
    lookup_url_kwarg = "server_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[McpServer]:
        if getattr(self, "swagger_fake_view", False):
            return McpServer.objects.none()
        return self.agent().mcp_servers.all()
