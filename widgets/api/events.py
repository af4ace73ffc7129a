from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Agent
from analytics.services import EventSource, events_record, events_validate
from customers.sessions import session_token_verify
from security.domains import parse_origin
from security.errors import InvalidSessionToken, OriginNotAllowed
from security.http import json_object_body, optional_str


class EventsView(APIView):
    """Batched widget analytics; `text/plain` bodies are accepted for `sendBeacon`."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes: list[Any] = []

    @extend_schema(
        operation_id="widget_events",
        request=None,
        responses={202: OpenApiResponse(description="{accepted: n}")},
        tags=["widget"],
    )
    def post(self, request: Request) -> Response:
        data = json_object_body(request._request, max_bytes=settings.WIDGET_MAX_BODY_BYTES)
        session = session_token_verify(optional_str(data, "token", max_length=4096) or "")
        origin = str(request.headers.get("Origin", ""))
        if origin != session.origin:
            raise OriginNotAllowed("This session token was issued to another website.")
        events = events_validate(data.get("events"))
        workspace_id = (
            Agent.objects.filter(public_id=session.agent_id, is_active=True)
            .values_list("workspace_id", flat=True)
            .first()
        )
        if workspace_id is None:
            raise InvalidSessionToken()
        parsed = parse_origin(origin)
        accepted = events_record(
            source=EventSource(
                workspace_id=workspace_id,
                agent_id=session.agent_id,
                domain=parsed.host if parsed else "",
                session_id=session.visitor_id,
                customer_id=str(session.customer_id) if session.customer_id else None,
            ),
            events=events,
        )
        return Response({"accepted": accepted}, status=202)
