"""Conversations and their messages for integrators and staff tools.

Members of a workspace read its conversations (internal notes included: this is the staff
side). Another workspace's conversation is a plain 404. Staff actions (reply, note,
assign, release, resolve) go through conversations.staff, like the live inbox.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.api.customer_serializers import CustomerRefOut
from conversations.api.filters import conversation_filters_read
from conversations.models import Conversation, Message
from conversations.realtime.protocol import MESSAGE_MAX_CHARS, STAFF_CLIENT_ID_PATTERN
from conversations.selectors import conversations_filtered
from conversations.staff import (
    conversation_release,
    conversation_resolve,
    conversation_take,
    staff_message_sent,
    staff_note,
    staff_reply,
)
from core.errors import InvalidRequest
from core.openapi import ApiAutoSchema, error_responses
from core.typed_input import TypedInput
from workspaces.scoping import scope_to_user


class ConversationIO(serializers.ModelSerializer[Conversation]):
    id = serializers.CharField(source="public_id", read_only=True)
    agentId = serializers.CharField(source="agent.public_id", read_only=True)
    visitorId = serializers.CharField(source="visitor_id", read_only=True)
    customer = CustomerRefOut(read_only=True, allow_null=True)
    assignedTo = serializers.CharField(
        source="assigned_to.username", read_only=True, allow_null=True, default=None
    )
    handoffReason = serializers.CharField(source="handoff_reason", read_only=True)
    pageUrl = serializers.CharField(source="page_url", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    lastMessageAt = serializers.DateTimeField(
        source="last_message_at", read_only=True, allow_null=True
    )
    resolvedAt = serializers.DateTimeField(source="resolved_at", read_only=True, allow_null=True)
    resolvedBy = serializers.CharField(source="resolved_by", read_only=True)
    csatScore = serializers.IntegerField(source="csat_score", read_only=True, allow_null=True)
    csatComment = serializers.CharField(source="csat_comment", read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "agentId",
            "status",
            "visitorId",
            "customer",
            "assignedTo",
            "handoffReason",
            "origin",
            "pageUrl",
            "createdAt",
            "updatedAt",
            "lastMessageAt",
            "resolvedAt",
            "resolvedBy",
            "csatScore",
            "csatComment",
        ]
        read_only_fields = fields


class MessageIO(serializers.ModelSerializer[Message]):
    id = serializers.CharField(source="public_id", read_only=True)
    author = serializers.CharField(
        source="author.username", read_only=True, allow_null=True, default=None
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    sources = serializers.SerializerMethodField()
    cards = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "role", "text", "author", "createdAt", "sources", "cards"]
        read_only_fields = fields

    def get_sources(self, message: Message) -> list[Any]:
        return list(message.metadata.get("sources") or [])

    def get_cards(self, message: Message) -> list[Any]:
        return list(message.metadata.get("cards") or [])


FILTERS = [
    OpenApiParameter("status", str, description="bot, waiting, assigned or resolved"),
    OpenApiParameter("agent", str, description="An agent id (agt_…)."),
    OpenApiParameter("customer", int, description="A customer id."),
    OpenApiParameter("assigned", str, description="'me', 'none' or a username."),
    OpenApiParameter("q", str, description="Text in any message."),
    OpenApiParameter("updatedSince", str, description="ISO 8601 date-time."),
]


def conversations_visible_to(user: Any) -> QuerySet[Conversation]:
    rows = Conversation.objects.select_related("agent", "customer", "assigned_to")
    return scope_to_user(rows, user)


class ConversationList(generics.ListAPIView[Conversation]):
    """The caller's workspaces' conversations, most recently active first."""

    serializer_class = ConversationIO

    @extend_schema(parameters=FILTERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Conversation]:
        filters = conversation_filters_read(self.request.query_params)
        rows = conversations_visible_to(self.request.user)
        return conversations_filtered(rows, filters, me=self.request.user.pk)


class ConversationDetail(generics.RetrieveAPIView[Conversation]):
    serializer_class = ConversationIO
    lookup_field = "public_id"
    lookup_url_kwarg = "conversation_id"

    def get_queryset(self) -> QuerySet[Conversation]:
        return conversations_visible_to(self.request.user)


class ConversationScoped(generics.GenericAPIView[Any]):
    def conversation(self) -> Conversation:
        if not hasattr(self, "_conversation"):
            self._conversation = get_object_or_404(
                conversations_visible_to(self.request.user),
                public_id=self.kwargs["conversation_id"],
            )
        return self._conversation


class StaffMessageIn(TypedInput):
    text = serializers.CharField(max_length=MESSAGE_MAX_CHARS)
    internal = serializers.BooleanField(default=False, help_text="An internal note.")
    clientId = serializers.RegexField(
        STAFF_CLIENT_ID_PATTERN,
        required=False,
        help_text="Your id for this message: sending it again (a retry) returns the stored "
        "message with 200 instead of writing it twice.",
    )


def _staff_user(request: Request) -> Any:
    """Staff actions are a person's: an API key may read but not speak for anyone."""
    if getattr(request.user, "api_workspace_id", None) is not None:
        raise PermissionDenied("Replies, notes and assignments need a staff user's token.")
    return request.user


class MessageList(ConversationScoped, generics.ListAPIView[Message]):
    """The transcript, oldest first, internal notes included (`?after=<message id>`).

    POST a staff reply (sent to the visitor at once) or, with `internal`, a note.
    """

    serializer_class = MessageIO

    @extend_schema(
        parameters=[OpenApiParameter("after", str, description="A message id: what came after.")]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=StaffMessageIn, responses={201: MessageIO, 200: MessageIO})
    def post(self, request: Request, conversation_id: str) -> Response:
        body = StaffMessageIn(data=request.data)
        body.is_valid(raise_exception=True)
        conversation = self.conversation()
        action = staff_note if body.validated_data["internal"] else staff_reply
        client_id = body.validated_data.get("clientId")
        replay = staff_message_sent(conversation, client_id) is not None
        message = action(
            user=_staff_user(request),
            conversation_id=conversation.public_id,
            text=body.validated_data["text"],
            client_id=client_id,
        )
        return Response(MessageIO(message).data, status=200 if replay else 201)

    def get_queryset(self) -> QuerySet[Message]:
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        rows = Message.objects.filter(conversation=self.conversation()).select_related("author")
        if after := self.request.query_params.get("after"):
            anchor = rows.filter(public_id=after).values_list("id", flat=True).first()
            if anchor is None:
                raise InvalidRequest("'after' is not a message of this conversation.")
            rows = rows.filter(id__gt=anchor)
        return rows.order_by("id")


class TakeIn(TypedInput):
    force = serializers.BooleanField(default=False, help_text="Take it from a colleague.")


class ConversationActionSchema(ApiAutoSchema):
    """One view serves three paths; only `take` reads a body."""

    def get_request_serializer(self) -> Any:
        return TakeIn if self._action() == "take" else None

    def get_response_serializers(self) -> Any:
        held = error_responses(409, e409="conflict: a colleague holds it (send force)")
        return {
            200: ConversationIO,
            **error_responses(400, e400="invalid_request: a bad body, or it is resolved"),
            **(held if self._action() == "take" else {}),
        }

    def _action(self) -> str:
        return str(getattr(self.view, "action_name", ""))


class ConversationAction(ConversationScoped):
    """POST take / release / resolve: the same services as the live inbox."""

    serializer_class = ConversationIO
    schema = ConversationActionSchema()
    action_name = ""

    def post(self, request: Request, conversation_id: str) -> Response:
        user = _staff_user(request)
        public_id = self.conversation().public_id
        if self.action_name == "take":
            body = TakeIn(data=request.data)
            body.is_valid(raise_exception=True)
            conversation = conversation_take(
                user=user, conversation_id=public_id, force=body.validated_data["force"]
            )
        elif self.action_name == "release":
            conversation = conversation_release(user=user, conversation_id=public_id)
        else:
            conversation = conversation_resolve(user=user, conversation_id=public_id)
        fresh = conversations_visible_to(user).get(pk=conversation.pk)
        return Response(ConversationIO(fresh).data)
