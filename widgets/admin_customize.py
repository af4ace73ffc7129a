"""Placeholder: the agent's customize page (filled in by this session's work)."""

from __future__ import annotations

from django.contrib.admin import ModelAdmin
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path

from agents.models import Agent


def customize_urls(model_admin: ModelAdmin[Agent]) -> list[URLPattern]:
    def view(request: HttpRequest, object_id: str) -> HttpResponse:
        raise Http404

    return [
        path(
            "<path:object_id>/widget/customize/",
            model_admin.admin_site.admin_view(view),
            name="agents_agent_widget_customize",
        )
    ]
