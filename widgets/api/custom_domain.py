"""`POST /api/v2/agents/<agent id>/widget/custom-domain/check`: look for the custom
domain's TXT record now (widgets.delivery.custom_domains). Owners, admins and write keys only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api.knowledge import AgentScoped
from core.openapi import error_responses
from widgets.api.widget_config import WidgetOut
from widgets.delivery.custom_domains import custom_domain_check
from widgets.publishing.drafts import widget_draft_state


class CustomDomainCheckView(AgentScoped):
    """Check the custom domain's DNS proof now; answers the draft, whose
    `customDomainStatus` is `verified` once the TXT record holds `recordValue`."""

    serializer_class = WidgetOut

    @extend_schema(
        request=None,
        responses={
            200: WidgetOut,
            **error_responses(400, 429, e400="invalid_request (no custom domain to check)"),
        },
    )
    def post(self, request: Request, agent_id: str) -> Response:
        agent = self.agent()
        custom_domain_check(agent=agent, by=request.user)
        return Response(WidgetOut(widget_draft_state(agent)).data)
