from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from agents.api.knowledge import ArticleDetail, ArticleList, McpServerDetail, McpServerList
from agents.api.views import AgentDetail, AgentList
from analytics.api.metrics import SummaryView, TimeseriesView
from analytics.dashboard import dashboard_csv, dashboard_page
from analytics.views import metrics
from config import health
from conversations.admin_inbox import inbox_page
from conversations.api.conversations import (
    ConversationAction,
    ConversationDetail,
    ConversationList,
    MessageList,
)
from conversations.api.customers import (
    CustomerConversationList,
    CustomerDetail,
    CustomerExport,
    CustomerList,
    CustomerMemoryDetail,
    CustomerMemoryList,
)
from conversations.api.widget import CustomerView, HistoryView
from conversations.api.widget_session import SessionRefreshView, SessionView
from core import openapi as _openapi  # noqa: F401  (the schema of the token views below)
from experiments.api.views import (
    ExperimentDetail,
    ExperimentList,
    ExperimentPromote,
    ExperimentResults,
)
from webhooks.api.views import WebhookDetail, WebhookList
from widgets.api.core import widget_core
from widgets.api.events import EventsView
from widgets.api.loader import widget_loader
from widgets.api.page_config import PageConfigView
from widgets.api.urls import agent_widget_urls
from widgets.delivery.assets import asset_view
from widgets.delivery.custom_domains import tls_ask

widget_api: list[URLPattern | URLResolver] = [
    path("session", SessionView.as_view(), name="widget-session"),
    path("session/refresh", SessionRefreshView.as_view(), name="widget-session-refresh"),
    path("customer", CustomerView.as_view(), name="widget-customer"),
    path("events", EventsView.as_view(), name="widget-events"),
    path("config/<str:agent_id>", PageConfigView.as_view(), name="widget-page-config"),
    path(
        "conversations/<str:conversation_id>/messages",
        HistoryView.as_view(),
        name="widget-history",
    ),
]

api_v2: list[URLPattern | URLResolver] = [
    path("widget/", include(widget_api)),
    path("auth/token", TokenObtainPairView.as_view(), name="auth-token"),
    path("auth/token/refresh", TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("agents/", AgentList.as_view(), name="agent-list"),
    path("agents/<str:agent_id>", AgentDetail.as_view(), name="agent-detail"),
    path("agents/<str:agent_id>/", include(agent_widget_urls)),  # widget, publish, releases
    path("agents/<str:agent_id>/knowledge", ArticleList.as_view(), name="article-list"),
    path(
        "agents/<str:agent_id>/knowledge/<int:article_id>",
        ArticleDetail.as_view(),
        name="article-detail",
    ),
    path("agents/<str:agent_id>/integrations", McpServerList.as_view(), name="mcp-list"),
    path(
        "agents/<str:agent_id>/integrations/<int:server_id>",
        McpServerDetail.as_view(),
        name="mcp-detail",
    ),
    path("customers/", CustomerList.as_view(), name="customer-list"),
    path("customers/<int:customer_id>", CustomerDetail.as_view(), name="customer-detail"),
    path("customers/<int:customer_id>/export", CustomerExport.as_view(), name="customer-export"),
    path(
        "customers/<int:customer_id>/conversations",
        CustomerConversationList.as_view(),
        name="customer-conversations",
    ),
    path(
        "customers/<int:customer_id>/memory",
        CustomerMemoryList.as_view(),
        name="customer-memory-list",
    ),
    path(
        "customers/<int:customer_id>/memory/<int:memory_id>",
        CustomerMemoryDetail.as_view(),
        name="customer-memory-detail",
    ),
    path("conversations/", ConversationList.as_view(), name="conversation-list"),
    path(
        "conversations/<str:conversation_id>",
        ConversationDetail.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<str:conversation_id>/messages",
        MessageList.as_view(),
        name="conversation-messages",
    ),
    *[
        path(
            f"conversations/<str:conversation_id>/{action}",
            ConversationAction.as_view(action_name=action),
            name=f"conversation-{action}",
        )
        for action in ("take", "release", "resolve")
    ],
    path("experiments/", ExperimentList.as_view(), name="experiment-list"),
    path("experiments/<int:experiment_id>", ExperimentDetail.as_view(), name="experiment-detail"),
    path(
        "experiments/<int:experiment_id>/results",
        ExperimentResults.as_view(),
        name="experiment-results",
    ),
    path(
        "experiments/<int:experiment_id>/promote",
        ExperimentPromote.as_view(),
        name="experiment-promote",
    ),
    path("webhooks", WebhookList.as_view(), name="webhook-list"),
    path("webhooks/<str:webhook_id>", WebhookDetail.as_view(), name="webhook-detail"),
    path("tls/ask", tls_ask, name="tls-ask"),
    path("analytics/summary", SummaryView.as_view(), name="analytics-summary"),
    path("analytics/timeseries", TimeseriesView.as_view(), name="analytics-timeseries"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("admin/inbox/", admin.site.admin_view(inbox_page), name="inbox"),
    path(
        "admin/analytics/dashboard/",
        admin.site.admin_view(dashboard_page),
        name="analytics-dashboard",
    ),
    path(
        "admin/analytics/dashboard/export.csv",
        admin.site.admin_view(dashboard_csv),
        name="analytics-dashboard-csv",
    ),
    # Admin pages of models that moved app (issue 16): staff's bookmarks still arrive.
    re_path(
        r"^admin/agents/(?P<page>(?:workspace|membership|apikey)/.*)$",
        RedirectView.as_view(url="/admin/workspaces/%(page)s", permanent=True, query_string=True),
    ),
    re_path(
        r"^admin/analytics/(?P<page>(?:experiment|experimentresult)/.*)$",
        RedirectView.as_view(url="/admin/experiments/%(page)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/v2/", include(api_v2)),
    path("widget.js", widget_loader, name="widget-loader"),
    path("widget/core.js", widget_core, name="widget-core"),
    path("widget/assets/<str:name>", asset_view, name="widget-asset"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]

handler404 = "core.exceptions.not_found"
handler500 = "core.exceptions.server_error"
