"""The public widget HTTP API: start a session, refresh it, read history.

Thin views: parse, call services and selectors, shape the response.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Agent
from conversations.api.widget_schema import HISTORY, SESSION, SESSION_START
from conversations.greetings import session_greeting
from conversations.identity import SessionIdentity, customer_out, session_identify
from conversations.models import Conversation
from conversations.parties import Party
from conversations.selectors import conversation_current, message_out, messages_after
from customers.models import Customer
from customers.sessions import (
    IssuedSession,
    refresh_token_agent,
    session_refresh,
    session_token_issue,
)
from customers.visitors import MAX_VISITOR_SECRET_LENGTH, BrowserVisitor, visitor_resolve
from security.domains import domain_hash
from security.errors import (
    InvalidCustomerToken,
    InvalidRefreshToken,
    InvalidRequest,
    InvalidSessionToken,
    NotFound,
    OriginNotAllowed,
)
from security.http import json_object_body, optional_str
from widgets.api.public import PublicWidgetView
from widgets.experiments import config_with_overrides, visitor_assignment
from widgets.installation import (
    installation_identity_note,
    installation_inactive_note,
    installation_origin_note,
)
from widgets.selectors import agent_for_widget, widget_access_for, widget_public_config


def _session_response(
    *,
    party: Party,
    issued: IssuedSession,
    agent: Agent,
    customer: Customer | None,
    visitor: BrowserVisitor | None = None,
) -> dict[str, Any]:
    """The session answer; only the session endpoint, where the browser proved (or was just
    given) its visitor, hands back the visitor secret."""
    conversation = conversation_current(agent_id=agent.pk, owner_key=party.owner_key)
    # The visitor's A/B variants (sticky by visitor id) change the config they are shown.
    assignment = visitor_assignment(agent_public_id=agent.public_id, visitor_id=party.visitor_id)
    config = config_with_overrides(widget_public_config(agent), assignment.overrides)
    # A verified customer's personalized greeting, from last time; a fresh one follows.
    config["greeting"] = session_greeting(agent=agent, customer=customer) or config["greeting"]
    return {
        "token": issued.token,
        "refreshToken": issued.refresh_token,
        "expiresAt": issued.expires_at.isoformat().replace("+00:00", "Z"),
        "visitorId": party.visitor_id,
        **({"visitorSecret": visitor.secret} if visitor else {}),
        "config": config,
        "variants": assignment.variants,
        "customer": customer_out(customer),
        "conversation": _conversation_out(conversation) if conversation else None,
    }


def _issue(
    *, agent: Agent, known: SessionIdentity, origin: str, page_url: str, family: str | None = None
) -> IssuedSession:
    identity = known.identity
    return session_token_issue(
        agent_id=agent.public_id,
        visitor_id=known.party.visitor_id,
        origin=origin,
        customer_id=known.party.customer_id,
        customer_verified=known.party.verified,
        identity_expires_at=identity.expires_at if identity else None,
        family=family,
        page_url=page_url,
    )


def _conversation_out(conversation: Conversation) -> dict[str, Any]:
    rows, has_more = messages_after(conversation=conversation, after=None)
    return {
        "id": conversation.public_id,
        "status": conversation.status,
        "messages": [message_out(m) for m in rows],
        "hasMore": has_more,
    }


class SessionView(PublicWidgetView):
    @extend_schema(
        operation_id="widget_session_create",
        request=inline_serializer(
            "WidgetSessionRequest",
            {
                "agentId": serializers.CharField(),
                "visitorId": serializers.CharField(required=False),
                "visitorSecret": serializers.CharField(required=False),
                "url": serializers.CharField(required=False),
                "referrer": serializers.CharField(required=False),
                "customer": serializers.JSONField(required=False),
                "customerToken": serializers.CharField(required=False),
                "userHash": serializers.CharField(required=False),
            },
        ),
        responses=SESSION_START,
        tags=["widget"],
    )
    def post(self, request: Request) -> Response:
        self.refuse_blocked_ip()
        data = json_object_body(request._request, max_bytes=settings.WIDGET_MAX_BODY_BYTES)
        agent_id = data.get("agentId")
        if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 40:
            raise InvalidRequest("'agentId' is required.")
        visitor_candidate = optional_str(data, "visitorId", max_length=64)
        visitor_secret = optional_str(data, "visitorSecret", max_length=MAX_VISITOR_SECRET_LENGTH)
        page_url = optional_str(data, "url", max_length=2000) or ""
        optional_str(data, "referrer", max_length=2000)
        access = widget_access_for(agent_id)
        # Per address, with the agent's own limits once it is known (a site whose visitors
        # share one office or campus address raises them); guessing ids counts too.
        self.throttle("session_per_ip", self.client_ip(), access.rate_limits if access else None)
        if access is None:
            installation_inactive_note(agent_public_id=agent_id, origin=self.origin())
            raise NotFound("No active agent has this id.", code="agent_not_found")
        self.refuse_blocked_ip(workspace_id=access.workspace_id)
        origin = self.origin()
        agent = agent_for_widget(agent_id, origin)
        if agent is None:
            installation_origin_note(
                agent_public_id=agent_id, origin=origin, debounce=False, access=access
            )
            raise OriginNotAllowed()
        self.throttle(
            "session_per_agent_domain", f"{agent_id}:{domain_hash(origin)}", access.rate_limits
        )
        # The id alone is public (staff and the REST API see it): only its secret resumes
        # the visitor, and so only a proven visitor's conversations can join a customer.
        visitor = visitor_resolve(
            agent_public_id=agent_id, candidate=visitor_candidate, secret=visitor_secret
        )
        try:
            known = session_identify(agent=agent, visitor_id=visitor.visitor_id, data=data)
        except InvalidCustomerToken as exc:
            installation_identity_note(agent=agent, origin=origin, error=exc)
            raise
        issued = _issue(
            agent=agent,
            known=known,
            origin=origin,
            page_url=page_url if page_url.startswith(("http://", "https://")) else "",
        )
        return Response(
            _session_response(
                party=known.party,
                issued=issued,
                agent=agent,
                customer=known.customer,
                visitor=visitor,
            )
        )


class SessionRefreshView(PublicWidgetView):
    @extend_schema(
        operation_id="widget_session_refresh",
        request=inline_serializer(
            "WidgetRefreshRequest", {"refreshToken": serializers.CharField()}
        ),
        responses=SESSION,
        tags=["widget"],
    )
    def post(self, request: Request) -> Response:
        self.refuse_blocked_ip()
        data = json_object_body(request._request, max_bytes=settings.WIDGET_MAX_BODY_BYTES)
        token = optional_str(data, "refreshToken", max_length=4096) or ""
        # As the session endpoint: per address, with the agent's own limits once the token
        # names it (nothing is spent yet); a bad token counts under the default.
        agent_id = refresh_token_agent(token) if token else None
        access = widget_access_for(agent_id) if agent_id else None
        self.throttle("session_per_ip", self.client_ip(), access.rate_limits if access else None)
        if access is not None:
            self.refuse_blocked_ip(workspace_id=access.workspace_id)
        session, issued = session_refresh(token, origin=self.origin())
        agent = agent_for_widget(session.agent_id, session.origin)
        if agent is None:
            raise OriginNotAllowed()
        if agent.identity_required and not session.customer_verified:
            raise InvalidRefreshToken("This chat is for signed-in customers; start a new session.")
        customer = (
            Customer.objects.filter(pk=session.customer_id).first() if session.customer_id else None
        )
        return Response(
            _session_response(
                party=Party.of(session), issued=issued, agent=agent, customer=customer
            )
        )


class HistoryView(PublicWidgetView):
    @extend_schema(
        operation_id="widget_conversation_messages",
        parameters=[OpenApiParameter("after", str, description="The last message id seen.")],
        responses=HISTORY,
        tags=["widget"],
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        session = self.bearer_session()
        access = widget_access_for(session.agent_id)
        if access is None:
            raise InvalidSessionToken()
        self.refuse_blocked_ip(workspace_id=access.workspace_id)
        self.throttle("history_per_visitor", session.visitor_id, access.rate_limits)
        if access.identity_required and not session.customer_verified:
            raise InvalidCustomerToken("This chat is for signed-in customers.")
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
        access = widget_access_for(session.agent_id)
        if access is None:
            raise InvalidSessionToken()
        self.refuse_blocked_ip(workspace_id=access.workspace_id)
        self.throttle("session_per_ip", self.client_ip(), access.rate_limits)
        data = json_object_body(request._request, max_bytes=settings.WIDGET_MAX_BODY_BYTES)
        if not (data.get("customerToken") or data.get("userHash")):
            raise InvalidCustomerToken("Send customerToken, or customer with userHash.")
        agent = agent_for_widget(session.agent_id, session.origin)
        if agent is None:
            raise OriginNotAllowed()
        known = session_identify(agent=agent, visitor_id=session.visitor_id, data=data)
        issued = _issue(agent=agent, known=known, origin=session.origin, page_url=session.page_url)
        return Response(
            _session_response(
                party=known.party, issued=issued, agent=agent, customer=known.customer
            )
        )
