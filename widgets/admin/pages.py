"""What the agent's widget pages share: finding the agent for the signed-in user (another
workspace's agent is a 404), the managers-only rule (403), links, and the page frame
(admin/widgets/agent_page.html with its tabs)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from agents.models import Agent
from workspaces.permissions import may_manage


def agent_for_admin(request: HttpRequest, model_admin: ModelAdmin[Agent], object_id: str) -> Agent:
    """The agent when the user may see it (its workspace), else 404."""
    agent = model_admin.get_queryset(request).filter(pk=object_id).first()
    if agent is None:
        raise Http404
    return agent


def require_manager(request: HttpRequest, agent: Agent) -> None:
    if not may_manage(request.user, agent.workspace_id):
        raise PermissionDenied("Only the workspace's owners and admins may change this.")


def admin_link(name: str, agent: Agent, *args: Any) -> str:
    return reverse(f"admin:agents_agent_{name}", args=[agent.pk, *args])


def agent_page(
    request: HttpRequest,
    model_admin: ModelAdmin[Agent],
    template: str,
    agent: Agent,
    **context: Any,
) -> HttpResponse:
    return TemplateResponse(
        request,
        f"admin/widgets/{template}",
        {
            **model_admin.admin_site.each_context(request),
            "agent": agent,
            "opts": Agent._meta,
            "may_manage": may_manage(request.user, agent.workspace_id),
            "links": {
                "deploy": admin_link("widget_deploy", agent),
                "customize": admin_link("widget_customize", agent),
                "releases": admin_link("widget_releases", agent),
                "presets": admin_link("widget_presets", agent),
                "export": admin_link("widget_export", agent),
                "import": admin_link("widget_import", agent),
                "duplicate": admin_link("duplicate", agent),
            },
            **context,
        },
    )
