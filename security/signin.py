"""Staff sign-in throttling: django-axes on `/admin/login/` and `/api/v2/auth/token`.

Axes counts failed sign-ins per account and, separately, per address (settings
AXES_LOCKOUT_PARAMETERS); past the limit, that account and that address are refused —
even with the right password — until the cool-off has passed without another failure.
These are the hooks settings hand it: the client's address as we compute it everywhere
else (security.client_ip: X-Forwarded-For only from TRUSTED_PROXIES, never a raw header),
and the answer a locked-out sign-in gets.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.helpers import get_cool_off
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.errors import LockedOut
from core.exceptions import error_body
from security.client_ip import client_ip

logger = logging.getLogger("customeragent.security")


def signin_client_ip(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: the address failures are counted against."""
    return client_ip(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))


def signin_retry_after(request: HttpRequest) -> int:
    """Seconds until a locked-out sign-in may try again (the cool-off restarts with
    every failure, so from now)."""
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off is not None else 0


def signin_locked_out(request: HttpRequest) -> LockedOut:
    """The API's error for a locked-out token request (429 locked_out + Retry-After)."""
    logger.warning("sign-in locked out for %s on %s", signin_client_ip(request), request.path)
    return LockedOut(headers={"Retry-After": str(signin_retry_after(request))})


def signin_locked_out_response(
    request: HttpRequest, response: Any = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE, for the admin's login form (axes' middleware calls it): a
    page saying what happened and when to try again; the contract's JSON under /api/."""
    retry_after = signin_retry_after(request)
    locked: HttpResponse
    if request.path.startswith("/api/"):
        error = LockedOut()
        locked = JsonResponse(error_body(error.code, error.message), status=error.status)
    else:
        minutes = max(1, -(-retry_after // 60))
        page = {
            "title": "Sign-in temporarily locked",
            "site_header": admin.site.site_header,
            "site_title": admin.site.site_title,
            "minutes": minutes,
        }
        locked = render(request, "security/locked_out.html", page, status=LockedOut.status)
    locked["Retry-After"] = str(retry_after)
    logger.warning("sign-in locked out for %s on %s", signin_client_ip(request), request.path)
    return locked
