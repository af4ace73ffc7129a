"""Knowledge articles and MCP server configs of an agent, for integrators.

Under `/api/v2/agents/<agent id>/`: members read, the workspace's owners and admins write.
Another workspace's agent, article or server is a plain 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from agents.integrations.mcp import headers_validate
from agents.integrations.servers import (
    customer_id_argument_validate,
    mcp_server_save,
    private_tools_check,
    server_url_validate,
    timeout_validate,
    tool_names_validate,
)
from agents.models import Agent, KnowledgeArticle, McpServer
from core.typed_input import TypedInput
from workspaces.permissions import may_manage
from workspaces.scoping import scope_to_user

T = TypeVar("T")


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
        child=serializers.CharField(trim_whitespace=False),
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
        return _checked(server_url_validate, value)

    def validate_headers(self, value: dict[str, str]) -> dict[str, str]:
        return _checked(headers_validate, value)

    def validate_allowedTools(self, value: list[str]) -> list[str]:  # noqa: N802
        return _checked(tool_names_validate, value)

    def validate_privateTools(self, value: list[str]) -> list[str]:  # noqa: N802
        return _checked(tool_names_validate, value)

    def validate_timeoutSeconds(self, value: int) -> int:  # noqa: N802
        return _checked(timeout_validate, value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        preset = str(attrs.get("preset", getattr(instance, "preset", "")) or "")
        if "customer_id_argument" in attrs or instance is None:
            name = attrs.get("customer_id_argument", "")
            attrs["customer_id_argument"] = _checked(
                lambda value: customer_id_argument_validate(value, preset=preset), name
            )
        try:
            private_tools_check(
                allowed=attrs.get("allowed_tools", getattr(instance, "allowed_tools", [])),
                private=attrs.get("private_tools", getattr(instance, "private_tools", [])),
                preset=preset,
            )
        except ValueError as exc:
            raise serializers.ValidationError({"privateTools": str(exc)}) from None
        return attrs

    def create(self, validated_data: dict[str, Any]) -> McpServer:
        headers = validated_data.pop("headers", None)
        server = McpServer(**validated_data)
        return mcp_server_save(server, headers=headers, actor=self.context["request"].user)

    def update(self, instance: McpServer, validated_data: dict[str, Any]) -> McpServer:
        headers = validated_data.pop("headers", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return mcp_server_save(instance, headers=headers, actor=self.context["request"].user)


def _checked(rule: Callable[[Any], T], value: Any) -> T:
    """A field rule's ValueError as the serializer's error (400 in the contract's shape)."""
    try:
        return rule(value)
    except ValueError as exc:
        raise serializers.ValidationError(str(exc)) from None


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
