"""An agent's widget for integrators: the draft, its snippet, JSON export and import.

Under `/api/v2/agents/<agent id>/widget`: members of the agent's workspace read, its owners
and admins (and write API keys) change; another workspace's agent is a plain 404. The
rules are in widgets.publishing.drafts, widgets.publishing.bulk and widgets.config.validation;
these views translate.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api.knowledge import AgentScoped
from core.errors import InvalidRequest
from core.openapi import error_responses, typed_dict_schema
from widgets.installation.snippet import Snippets, widget_snippets_for
from widgets.publishing.bulk import WidgetDocument, widget_export, widget_import
from widgets.publishing.drafts import EDITABLE_FIELDS, widget_draft_state, widget_draft_update

INVALID_WIDGET = error_responses(
    400, e400="invalid_widget_config (naming each field) or invalid_widget_document"
)


class DomainVerificationOut(serializers.Serializer[Any]):
    """The DNS record that proves the custom domain (widgets.delivery.custom_domains)."""

    recordType = serializers.CharField()
    recordName = serializers.CharField()
    recordValue = serializers.CharField()
    checkedAt = serializers.DateTimeField(allow_null=True)
    verifiedAt = serializers.DateTimeField(allow_null=True)
    problem = serializers.CharField()


class WidgetOut(serializers.Serializer[Any]):
    """The draft in the public config's names, plus security settings and what is live."""

    agentId = serializers.CharField()
    name = serializers.CharField()
    theme = serializers.JSONField()
    position = serializers.CharField()
    customCss = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    starterPrompts = serializers.ListField(child=serializers.CharField())
    triggers = serializers.JSONField()
    greeting = serializers.CharField()
    avatarUrl = serializers.CharField()
    allowedDomains = serializers.ListField(child=serializers.CharField())
    rateLimits = serializers.DictField(child=serializers.IntegerField())
    coreVersion = serializers.CharField()
    customDomain = serializers.CharField()
    customDomainStatus = serializers.ChoiceField(choices=["none", "pending", "verified"])
    customDomainVerification = DomainVerificationOut(allow_null=True)
    publishedVersion = serializers.IntegerField(allow_null=True)
    publishedAt = serializers.DateTimeField(allow_null=True)
    hasUnpublishedChanges = serializers.BooleanField()
    updatedAt = serializers.DateTimeField(allow_null=True)


WIDGET_PATCH = inline_serializer(
    "WidgetPatch",
    {name: serializers.JSONField(required=False) for name in EDITABLE_FIELDS},
)


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise InvalidRequest("Send a JSON object.")
    return dict(request.data)


class WidgetDraftView(AgentScoped):
    """The agent's widget draft. `PATCH` changes the fields it names: appearance waits for
    `publish`; `allowedDomains`, `rateLimits`, `coreVersion` and `customDomain` apply at
    once."""

    serializer_class = WidgetOut

    @extend_schema(responses={200: WidgetOut})
    def get(self, request: Request, agent_id: str) -> Response:
        return Response(WidgetOut(widget_draft_state(self.agent())).data)

    @extend_schema(request=WIDGET_PATCH, responses={200: WidgetOut, **INVALID_WIDGET})
    def patch(self, request: Request, agent_id: str) -> Response:
        agent = self.agent()
        widget_draft_update(agent=agent, values=_body(request), by=request.user)
        return Response(WidgetOut(widget_draft_state(agent)).data)


class WidgetSnippetView(AgentScoped):
    """The embed snippet in both forms; for an agent pinned to a build, also the form with
    Subresource Integrity (`pinned`)."""

    serializer_class = WidgetOut  # for the schema generator; the answer is below

    @extend_schema(responses={200: typed_dict_schema(Snippets)})
    def get(self, request: Request, agent_id: str) -> Response:
        return Response(widget_snippets_for(self.agent()))


class WidgetExportView(AgentScoped):
    """The draft's appearance and behaviour as a portable document (no security settings)."""

    serializer_class = WidgetOut

    @extend_schema(responses={200: typed_dict_schema(WidgetDocument)})
    def get(self, request: Request, agent_id: str) -> Response:
        agent = self.agent()
        response = Response(widget_export(agent))
        response["Content-Disposition"] = f'inline; filename="widget-{agent.public_id}.json"'
        return response


class WidgetImportView(AgentScoped):
    """Read an exported document into the draft (checked like the admin form; publish to
    make it live)."""

    serializer_class = WidgetOut

    @extend_schema(
        request=inline_serializer(
            "WidgetDocument",
            {
                "format": serializers.CharField(),
                "version": serializers.IntegerField(),
                "widget": serializers.JSONField(),
            },
        ),
        responses={200: WidgetOut, **INVALID_WIDGET},
    )
    def post(self, request: Request, agent_id: str) -> Response:
        agent = self.agent()
        widget_import(agent=agent, document=_body(request), by=request.user)
        return Response(WidgetOut(widget_draft_state(agent)).data, status=status.HTTP_200_OK)
