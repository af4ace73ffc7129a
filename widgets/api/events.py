from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.services import EventSource, events_record, events_validate
from core.errors import InvalidSessionToken, OriginNotAllowed
from core.openapi import error_responses
from customers.sessions import WidgetSession, session_token_verify
from security.blocks import IpBlockList
from security.domains import parse_origin
from security.http import json_object_body, optional_str
from security.limits import limit_for
from widgets.api.public import PublicWidgetView
from widgets.delivery.snapshots import AsksFor, GateAsks, WidgetSnapshot
from widgets.delivery.variants import assignment_for
from widgets.installation.refusals import installation_origin_note
from widgets.services import admission_refusal


class EventIn(serializers.Serializer[Any]):
    type = serializers.CharField(help_text="A short lower-case name: load, open, message…")
    id = serializers.CharField(required=False, help_text="8-64 of A-Z a-z 0-9 - _: retry-safe.")
    ts = serializers.DateTimeField(required=False, help_text="When it happened (with a zone).")
    metadata = serializers.JSONField(required=False)


class EventsIn(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="The session token.")
    agentId = serializers.CharField(required=False)
    events = EventIn(many=True, allow_empty=False)


class EventsView(PublicWidgetView):
    """Batched widget analytics; `text/plain` bodies are accepted for `sendBeacon`."""

    @extend_schema(
        operation_id="widget_events",
        request={"application/json": EventsIn, "text/plain": EventsIn},
        responses={
            202: inline_serializer("EventsAccepted", {"accepted": serializers.IntegerField()}),
            **error_responses(
                400,
                401,
                403,
                413,
                429,
                e401="invalid_token",
                e403="origin_not_allowed or ip_blocked",
                e413="payload_too_large: the body, the batch or an event's metadata",
            ),
        },
        tags=["widget"],
    )
    def post(self, request: Request) -> Response:
        received_at = timezone.now()
        data = json_object_body(request._request, max_bytes=settings.WIDGET_MAX_BODY_BYTES)
        session = session_token_verify(optional_str(data, "token", max_length=4096) or "")
        claimed_agent = optional_str(data, "agentId", max_length=40)
        if claimed_agent is not None and claimed_agent != session.agent_id:
            raise InvalidSessionToken("This session token belongs to another agent.")
        origin = str(request.headers.get("Origin", ""))
        if origin != session.origin:
            raise OriginNotAllowed("This session token was issued to another website.")
        ip = self.client_ip()
        gate = self.gate(agent_id=session.agent_id, asks_for=_events_asks(ip, origin, session))
        refusal = admission_refusal(gate, origin=origin, ip=ip)
        access = gate.snapshot
        if refusal == "inactive" or access is None:
            raise InvalidSessionToken()
        if refusal == "ip_blocked":
            self.refuse_blocked(gate, workspace_id=access.workspace_id)
        if refusal == "origin":  # the agent dropped this site since the token was issued
            installation_origin_note(agent_public_id=session.agent_id, origin=origin, access=access)
            raise OriginNotAllowed()
        self.refuse_limited(gate, 0, "events_per_visitor", session.visitor_id)
        events = events_validate(data.get("events"), received_at=received_at)
        workspace_id = access.workspace_id
        parsed = parse_origin(origin)
        accepted = events_record(
            source=EventSource(
                workspace_id=workspace_id,
                agent_id=session.agent_id,
                domain=parsed.host if parsed else "",
                session_id=session.visitor_id,
                customer_id=str(session.customer_id) if session.customer_id else None,
                # The running experiment's variant, as the server assigns it (not as claimed).
                variant=assignment_for(access.experiments, visitor_id=session.visitor_id).label,
            ),
            events=events,
        )
        return Response({"accepted": accepted}, status=202)


def _events_asks(ip: str, origin: str, session: WidgetSession) -> AsksFor:
    """Events count per visitor, only for a site the agent still allows, from an address
    not blocked."""

    def asks_for(snapshot: WidgetSnapshot | None, blocks: IpBlockList) -> GateAsks:
        if (
            snapshot is None
            or not snapshot.allows(origin)
            or blocks.match(ip, workspace_id=snapshot.workspace_id) is not None
        ):
            return GateAsks()
        limit = limit_for("events_per_visitor", snapshot.rate_limits)
        return GateAsks(hits=[(limit, session.visitor_id)])

    return asks_for
