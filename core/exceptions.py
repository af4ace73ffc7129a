"""One mapping from exceptions to the contract's `{"error": {code, message}}` shape."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response

from core.database_faults import (
    DATABASE_FAULTS,
    RETRY_AFTER_SECONDS,
    database_connections_recover,
)
from core.errors import ApiError
from core.redis_pools import REDIS_FAULTS

logger = logging.getLogger("customeragent.api")

DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "invalid_request",
    exceptions.ValidationError: "invalid_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    path = getattr(request, "path", "?")
    if isinstance(exc, ApiError):
        logger.info("%s %s -> %s %s", getattr(request, "method", "?"), path, exc.status, exc.code)
        return Response(error_body(exc.code, exc.message), status=exc.status, headers=exc.headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    code = next((c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), "error")
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        extra["fields"] = exc.detail
        message = "The request is invalid."
    else:
        message = str(exc.detail)
    headers = {}
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait:
        headers["Retry-After"] = str(int(wait))
    logger.info("%s %s -> %s %s", getattr(request, "method", "?"), path, exc.status_code, code)
    return Response(error_body(code, message, **extra), status=exc.status_code, headers=headers)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """JSON for API paths, Django's page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500, called while the exception is being handled (for a view's,
    DRF's and a middleware's alike, in a thread of its own under ASGI, where asgiref
    carries the exception over): a database fault is a 503, not a 500. Django has logged
    it already, once, with its traceback."""
    fault = sys.exc_info()[1]
    if isinstance(fault, DATABASE_FAULTS):
        return database_unavailable(request)
    if isinstance(fault, REDIS_FAULTS):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side."), status=500
        )
    return defaults.server_error(request)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: PostgreSQL dropped or refused the connection. The pool's other
    idle connections are tested now, so the retry gets a working one."""
    database_connections_recover()
    return service_unavailable(request)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: PostgreSQL or Redis failed under the request (Redis restarting,
    stalled or out of connections); the same request is likely to work in a few seconds."""
    message = "The service is briefly unavailable; try again in a few seconds."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error_body("unavailable", message), status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
