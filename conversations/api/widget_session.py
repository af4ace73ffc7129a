"""The public widget HTTP API's sessions: start one (`POST /api/v2/widget/session`) and
refresh it, counted per address. A start is admitted by widgets.services.admission_refusal; a
refresh by its token (issued to this origin, spent once) and the agent's current rules.

Thin views: parse, call services and selectors, shape the response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Agent
from conversations.api.widget_schema import SESSION, SESSION_START
from conversations.greetings import session_greeting
from conversations.identity import SessionIdentity, customer_out, session_identify
from conversations.parties import Party
from conversations.selectors import (
    ResumedConversation,
    conversation_resume,
    message_out,
)
from core.errors import (
    ApiError,
    InvalidCustomerToken,
    InvalidRefreshToken,
    InvalidRequest,
    NotFound,
    OriginNotAllowed,
)
from customers.identity import SIGNED_IN_ONLY, identity_satisfied
from customers.models import Customer
from customers.sessions import (
    IssuedSession,
    RefreshClaims,
    refresh_spent_check,
    refresh_token_read,
    session_reissue,
    session_token_issue,
)
from customers.visitors import MAX_VISITOR_SECRET_LENGTH, BrowserVisitor, visitor_resolve
from security.blocks import IpBlockList
from security.domains import domain_hash
from security.http import json_object_body, optional_str
from security.limits import limit_for
from widgets.api.public import PublicWidgetView
from widgets.delivery.snapshots import AsksFor, GateAsks, WidgetSnapshot
from widgets.delivery.variants import assignment_for, config_with_overrides
from widgets.installation.refusals import (
    installation_identity_note,
    installation_inactive_note,
    installation_origin_note,
)
from widgets.services import admission_refusal


def session_response(
    *,
    party: Party,
    issued: IssuedSession,
    snapshot: WidgetSnapshot,
    customer: Customer | None,
    visitor: BrowserVisitor | None = None,
    new_visitor: bool = False,
) -> dict[str, Any]:
    """The session answer; only the session endpoint, where the browser proved (or was just
    given) its visitor, hands back the visitor secret.

    Its one query is the visitor's open conversation with its latest messages; a visitor
    minted just now has none, so nothing is asked.
    """
    resumed = (
        None
        if new_visitor
        else conversation_resume(agent_id=snapshot.pk, owner_key=party.owner_key)
    )
    # The visitor's A/B variants (sticky by visitor id) change the config they are shown.
    assignment = assignment_for(snapshot.experiments, visitor_id=party.visitor_id)
    config = config_with_overrides(snapshot.config, assignment.overrides)
    if customer is not None and customer.is_verified:
        # A verified customer's personalized greeting, from last time; a fresh one follows.
        agent = Agent.objects.get(pk=snapshot.pk)
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
        "conversation": _conversation_out(resumed) if resumed else None,
    }


def session_issue(
    *, agent_id: str, known: SessionIdentity, origin: str, page_url: str, family: str | None = None
) -> IssuedSession:
    identity = known.identity
    return session_token_issue(
        agent_id=agent_id,
        visitor_id=known.party.visitor_id,
        origin=origin,
        customer_id=known.party.customer_id,
        customer_verified=known.party.verified,
        identity_expires_at=identity.expires_at if identity else None,
        family=family,
        page_url=page_url,
    )


def _conversation_out(resumed: ResumedConversation) -> dict[str, Any]:
    return {
        "id": resumed.public_id,
        "status": resumed.status,
        "messages": [message_out(m) for m in resumed.messages],
        "hasMore": resumed.has_more,
    }


@dataclass(frozen=True)
class SessionStart:
    agent_id: str
    visitor_id: str | None
    visitor_secret: str | None
    page_url: str


def _session_start_read(data: dict[str, Any]) -> SessionStart:
    agent_id = data.get("agentId")
    if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 40:
        raise InvalidRequest("'agentId' is required.")
    start = SessionStart(
        agent_id=agent_id,
        visitor_id=optional_str(data, "visitorId", max_length=64),
        visitor_secret=optional_str(data, "visitorSecret", max_length=MAX_VISITOR_SECRET_LENGTH),
        page_url=optional_str(data, "url", max_length=2000) or "",
    )
    optional_str(data, "referrer", max_length=2000)
    return start


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
        ip, origin = self.client_ip(), self.origin()
        try:
            data = json_object_body(request._request, max_bytes=settings.WIDGET_MAX_BODY_BYTES)
            start = _session_start_read(data)
        except ApiError:
            # A blocked address hears that it is blocked, whatever it sent.
            self.refuse_blocked(self.gate(agent_id=None, asks_for=lambda s, b: GateAsks()))
            raise
        snapshot = self._admitted(start.agent_id, ip=ip, origin=origin)
        # The id alone is public (staff and the REST API see it): only its secret resumes
        # the visitor, and so only a proven visitor's conversations can join a customer.
        visitor = visitor_resolve(
            agent_public_id=start.agent_id, candidate=start.visitor_id, secret=start.visitor_secret
        )
        try:
            known = session_identify(agent=snapshot, visitor_id=visitor.visitor_id, data=data)
        except InvalidCustomerToken as exc:
            installation_identity_note(agent=snapshot, origin=origin, error=exc)
            raise
        page_url = start.page_url
        issued = session_issue(
            agent_id=start.agent_id,
            known=known,
            origin=origin,
            page_url=page_url if page_url.startswith(("http://", "https://")) else "",
        )
        return Response(
            session_response(
                party=known.party,
                issued=issued,
                snapshot=snapshot,
                customer=known.customer,
                visitor=visitor,
                # Minted just now and speaking for no customer: no conversation to find.
                new_visitor=visitor.visitor_id != start.visitor_id
                and known.party.customer_id is None,
            )
        )

    def _admitted(self, agent_id: str, *, ip: str, origin: str) -> WidgetSnapshot:
        """The agent's snapshot, once this page and address may start a session with it
        (widgets.services.admission_refusal) within the limits per address and per site."""
        per_site = f"{agent_id}:{domain_hash(origin)}"
        gate = self.gate(agent_id=agent_id, asks_for=_session_asks(ip, origin, per_site))
        self.refuse_blocked(gate)
        self.refuse_limited(gate, 0, "session_per_ip", ip)
        refusal = admission_refusal(gate, origin=origin, ip=ip)
        snapshot = gate.snapshot
        if refusal == "inactive" or snapshot is None:
            installation_inactive_note(agent_public_id=agent_id, origin=origin)
            raise NotFound("No active agent has this id.", code="agent_not_found")
        if refusal == "ip_blocked":
            self.refuse_blocked(gate, workspace_id=snapshot.workspace_id)
        if refusal == "origin":
            installation_origin_note(
                agent_public_id=agent_id, origin=origin, debounce=False, access=snapshot
            )
            raise OriginNotAllowed()
        self.refuse_limited(gate, 1, "session_per_agent_domain", per_site)
        return snapshot


def _session_asks(ip: str, origin: str, per_site: str) -> AsksFor:
    """What a session start counts: per address, with the agent's own limits once it is
    known (a site whose visitors share one office or campus address raises them); guessing
    ids counts too. Per site only for a site the agent allows, from an address not blocked."""

    def asks_for(snapshot: WidgetSnapshot | None, blocks: IpBlockList) -> GateAsks:
        if blocks.match(ip) is not None:
            return GateAsks()
        limits = snapshot.rate_limits if snapshot else None
        hits = [(limit_for("session_per_ip", limits), ip)]
        if (
            snapshot is not None
            and blocks.match(ip, workspace_id=snapshot.workspace_id) is None
            and snapshot.allows(origin)
        ):
            hits.append((limit_for("session_per_agent_domain", limits), per_site))
        return GateAsks(hits=hits)

    return asks_for


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
        ip, origin = self.client_ip(), self.origin()
        try:
            data = json_object_body(request._request, max_bytes=settings.WIDGET_MAX_BODY_BYTES)
            token = optional_str(data, "refreshToken", max_length=4096) or ""
        except ApiError:
            self.refuse_blocked(self.gate(agent_id=None, asks_for=lambda s, b: GateAsks()))
            raise
        # Nothing is spent yet: a token we signed names its agent, and so the limits.
        claims = refresh_token_read(token)
        session = claims.session if claims else None

        gate = self.gate(
            agent_id=session.agent_id if session else None,
            asks_for=_refresh_asks(ip, origin, claims),
        )
        self.refuse_blocked(gate)
        self.refuse_limited(gate, 0, "session_per_ip", ip)
        snapshot = gate.snapshot
        if snapshot is not None:
            self.refuse_blocked(gate, workspace_id=snapshot.workspace_id)
        if claims is None or session is None:
            raise InvalidRefreshToken()
        if origin != session.origin:
            raise OriginNotAllowed("This session was issued to another website.")
        refresh_spent_check(claims, gate.checked.spend)
        issued = session_reissue(claims)
        if snapshot is None or not snapshot.allows(session.origin):
            raise OriginNotAllowed()
        if not identity_satisfied(
            required=snapshot.identity_required, verified=session.customer_verified
        ):
            raise InvalidRefreshToken(f"{SIGNED_IN_ONLY}; start a new session.")
        customer = (
            Customer.objects.filter(pk=session.customer_id).first() if session.customer_id else None
        )
        return Response(
            session_response(
                party=Party.of(session), issued=issued, snapshot=snapshot, customer=customer
            )
        )


def _refresh_asks(ip: str, origin: str, claims: RefreshClaims | None) -> AsksFor:
    """As the session endpoint: per address, with the agent's own limits once the token
    names it (a bad token counts under the default). The token is spent only when it may
    be: not from a blocked address, not from another origin."""

    def asks_for(snapshot: WidgetSnapshot | None, blocks: IpBlockList) -> GateAsks:
        if blocks.match(ip) is not None:
            return GateAsks()
        hits = [(limit_for("session_per_ip", snapshot.rate_limits if snapshot else None), ip)]
        workspace_id = snapshot.workspace_id if snapshot else None
        spendable = (
            claims is not None
            and origin == claims.session.origin
            and (snapshot is None or blocks.match(ip, workspace_id=workspace_id) is None)
        )
        return GateAsks(hits=hits, once=claims.one_time_use() if claims and spendable else None)

    return asks_for
