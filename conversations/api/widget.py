"""The public widget HTTP API within a session: read history, identify the customer.

Thin views: parse, call services and selectors, shape the response.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from conversations.api.widget_schema import HISTORY, SESSION
from conversations.api.widget_session import session_issue, session_response
from conversations.identity import session_identify
from conversations.models import Conversation
from conversations.selectors import (
    message_out,
    messages_after,
)
from core.errors import (
    InvalidCustomerToken,
    InvalidSessionToken,
    NotFound,
    OriginNotAllowed,
)
from customers.identity import SIGNED_IN_ONLY, identity_satisfied
from security.http import json_object_body
from widgets.api.public import PublicWidgetView
from widgets.delivery.snapshots import widget_snapshot


class HistoryView(PublicWidgetView):
    @extend_schema(
        operation_id="widget_conversation_messages",
        parameters=[OpenApiParameter("after", str, description="The last message id seen.")],
        responses=HISTORY,
        tags=["widget"],
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        session = self.bearer_session()
        access = widget_snapshot(session.agent_id)
        if access is None:
            raise InvalidSessionToken()
        self.refuse_blocked_ip(workspace_id=access.workspace_id)
        self.throttle("history_per_visitor", session.visitor_id, access.rate_limits)
        if not identity_satisfied(
            required=access.identity_required, verified=session.customer_verified
        ):
            raise InvalidCustomerToken(f"{SIGNED_IN_ONLY}.")
        conversation = (
            Conversation.objects.filter(
                public_id=conversation_id,
                agent__public_id=session.agent_id,
                owner_key=session.owner_key,
            )
            .select_related("agent")
            .first()
        )
        # Someone else's conversation answers exactly like one that does not exist.
        if conversation is None:
            raise NotFound("No such conversation.")
        after = request.query_params.get("after") or None
        rows, has_more = messages_after(conversation=conversation, after=after)
        return Response({"messages": [message_out(m) for m in rows], "hasMore": has_more})


class CustomerView(PublicWidgetView):
    """`identify()` after load: verify the customer, link the browser's conversation to
    them, and hand back a session that speaks for them (the old token stays valid until
    it expires, but speaks only for the anonymous visitor it was issued to)."""

    @extend_schema(
        operation_id="widget_customer_identify",
        request=inline_serializer(
            "WidgetCustomerRequest",
            {
                "customerToken": serializers.CharField(required=False),
                "customer": serializers.JSONField(required=False),
                "userHash": serializers.CharField(required=False),
            },
        ),
        responses=SESSION,
        tags=["widget"],
    )
    def post(self, request: Request) -> Response:
        session = self.bearer_session()
        snapshot = widget_snapshot(session.agent_id)
        if snapshot is None:
            raise InvalidSessionToken()
        self.refuse_blocked_ip(workspace_id=snapshot.workspace_id)
        self.throttle("session_per_ip", self.client_ip(), snapshot.rate_limits)
        data = json_object_body(request._request, max_bytes=settings.WIDGET_MAX_BODY_BYTES)
        if not (data.get("customerToken") or data.get("userHash")):
            raise InvalidCustomerToken("Send customerToken, or customer with userHash.")
        if not snapshot.allows(session.origin):
            raise OriginNotAllowed()
        known = session_identify(agent=snapshot, visitor_id=session.visitor_id, data=data)
        issued = session_issue(
            agent_id=session.agent_id,
            known=known,
            origin=session.origin,
            page_url=session.page_url,
        )
        return Response(
            session_response(
                party=known.party, issued=issued, snapshot=snapshot, customer=known.customer
            )
        )
