"""HTTP latency by route pattern, method and status, for `/metrics`.

First in MIDDLEWARE, so it times everything the others do too. The route label is the URL
pattern (`api/v2/agents/<str:agent_id>`), never the path: one series per endpoint, however
many agents or conversations there are.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from analytics.monitoring.prometheus import HTTP_LATENCY

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return str(match.route)
    if request.path.startswith(settings.STATIC_URL):
        return "<static>"
    return "<unmatched>"


def _observe(request: HttpRequest, status: int, started: float) -> None:
    method = request.method if request.method in KNOWN_METHODS else "OTHER"
    HTTP_LATENCY.labels(route=route_label(request), method=method, status=str(status)).observe(
        time.perf_counter() - started
    )


class RequestMetricsMiddleware:
    """Works as sync or async middleware, so it adds no thread hop under ASGI."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        response: HttpResponseBase = self.get_response(request)
        _observe(request, response.status_code, started)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        handler: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await handler(request)
        _observe(request, response.status_code, started)
        return response
