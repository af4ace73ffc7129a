"""`/api/v2/agents/<agent id>/widget…`: the draft, publishing, releases, snippet, JSON."""

from __future__ import annotations

from django.urls import URLPattern, path

from widgets.api.custom_domain import CustomDomainCheckView
from widgets.api.releases import (
    WidgetPublishView,
    WidgetReleaseDetail,
    WidgetReleaseList,
    WidgetReleaseRollback,
)
from widgets.api.widget_config import (
    WidgetDraftView,
    WidgetExportView,
    WidgetImportView,
    WidgetSnippetView,
)

# Included under "agents/<str:agent_id>/" by config/urls.py.
agent_widget_urls: list[URLPattern] = [
    path("widget", WidgetDraftView.as_view(), name="agent-widget"),
    path("widget/publish", WidgetPublishView.as_view(), name="agent-widget-publish"),
    path("widget/releases", WidgetReleaseList.as_view(), name="agent-widget-releases"),
    path(
        "widget/releases/<int:version>",
        WidgetReleaseDetail.as_view(),
        name="agent-widget-release",
    ),
    path(
        "widget/releases/<int:version>/rollback",
        WidgetReleaseRollback.as_view(),
        name="agent-widget-rollback",
    ),
    path("widget/snippet", WidgetSnippetView.as_view(), name="agent-widget-snippet"),
    path(
        "widget/custom-domain/check",
        CustomDomainCheckView.as_view(),
        name="agent-widget-custom-domain-check",
    ),
    path("widget/export", WidgetExportView.as_view(), name="agent-widget-export"),
    path("widget/import", WidgetImportView.as_view(), name="agent-widget-import"),
]
