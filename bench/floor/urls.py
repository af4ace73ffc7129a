"""The floor's HTTP routes: the session's path answered by a trivial DRF view."""

from django.urls import path

from bench.floor.views import FloorSessionView
from config import health

urlpatterns = [
    path("api/v2/widget/session", FloorSessionView.as_view()),
    path("healthz", health.healthz),
]
