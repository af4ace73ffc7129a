"""Outbound webhooks for integrators: `/api/v2/webhooks` (CONTRACT.md, docs/webhooks.md).

Members of a workspace read its endpoints; its owners and admins (and write API keys)
create and remove them. The secret is in the creation answer only. Another workspace's
endpoint is a plain 404. The rules are in `webhooks.services`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import InvalidRequest
from core.openapi import error_responses
from core.typed_input import TypedInput
from webhooks.delivery import EVENT_TYPES
from webhooks.models import WebhookEndpoint
from webhooks.services import webhook_endpoint_create, webhook_endpoint_delete
from workspaces.models import Workspace
from workspaces.permissions import may_manage
from workspaces.scoping import scope_to_user


class WebhookOut(serializers.Serializer[WebhookEndpoint]):
    id = serializers.CharField(source="public_id", read_only=True)
    workspace = serializers.CharField(source="workspace.slug", read_only=True)
    url = serializers.URLField(read_only=True)
    events = serializers.ListField(child=serializers.CharField(), read_only=True)
    status = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    def get_status(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.paused_at is not None:
            return "paused"
        return "active" if endpoint.is_active else "off"


class WebhookCreatedOut(WebhookOut):
    secret = serializers.CharField(read_only=True, help_text="Shown once: keep it.")


class WebhookIn(TypedInput):
    workspace = serializers.SlugField(
        required=False, help_text="The workspace's slug; a workspace API key implies it."
    )
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)), min_length=1
    )


def webhooks_visible_to(user: Any) -> QuerySet[WebhookEndpoint]:
    rows = WebhookEndpoint.objects.select_related("workspace").order_by("created_at", "id")
    return scope_to_user(rows, user)


def _workspace_for(user: Any, slug: str | None) -> Workspace:
    key_workspace = getattr(user, "api_workspace_id", None)
    workspaces = scope_to_user(Workspace.objects.all(), user)
    if slug:
        workspace = get_object_or_404(workspaces, slug=slug)
    elif key_workspace is not None:
        workspace = get_object_or_404(workspaces, pk=key_workspace)
    else:
        raise InvalidRequest("workspace is required (your workspace's slug).")
    if not may_manage(user, workspace.pk):
        raise PermissionDenied("Only the workspace's owners and admins may add webhooks.")
    return workspace


class WebhookList(generics.ListAPIView[WebhookEndpoint]):
    """Your workspaces' webhook endpoints; `POST` adds one (its secret is shown once)."""

    serializer_class = WebhookOut

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return webhooks_visible_to(self.request.user)

    @extend_schema(
        request=WebhookIn,
        responses={201: WebhookCreatedOut, **error_responses(400, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        incoming = WebhookIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        workspace = _workspace_for(request.user, data.get("workspace"))
        endpoint, secret = webhook_endpoint_create(
            workspace=workspace, url=data["url"], events=data["events"], by=request.user
        )
        body = {**WebhookOut(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookDetail(generics.RetrieveAPIView[WebhookEndpoint]):
    serializer_class = WebhookOut
    lookup_field = "public_id"
    lookup_url_kwarg = "webhook_id"

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return webhooks_visible_to(self.request.user)

    @extend_schema(responses={204: None, **error_responses(403, 404)})
    def delete(self, request: Request, webhook_id: str) -> Response:
        endpoint = self.get_object()
        if not may_manage(request.user, endpoint.workspace_id):
            raise PermissionDenied("Only the workspace's owners and admins may remove webhooks.")
        webhook_endpoint_delete(endpoint, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
