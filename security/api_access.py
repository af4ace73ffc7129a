"""Who may call the integrator API at all: REST_FRAMEWORK's default permission.

Written once for every view under /api/v2/ (the public widget endpoints opt out with
their own token checks). Finer rules — which workspace, which role — stay in the views
and services; this only decides the kind of caller:

- a workspace API key (workspaces.api_keys) reads; it changes data only if it "can write";
- a person (JWT or admin session) must be an active staff user, as the contract says.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from core.errors import ReadOnlyKey, StaffRequired


def is_api_key(principal: Any) -> bool:
    """A workspace API key's principal rather than a person (see workspaces.scoping)."""
    return getattr(principal, "api_workspace_id", None) is not None


class IntegratorAccess(BasePermission):
    """Staff users, and API keys (read-only keys for GET/HEAD/OPTIONS only)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal: Any = request.user
        if principal is None or not principal.is_authenticated:
            return False  # DRF answers 401 not_authenticated
        if is_api_key(principal):
            if request.method not in SAFE_METHODS and not principal.can_write:
                raise ReadOnlyKey()
            return True
        if not (principal.is_active and principal.is_staff):
            raise StaffRequired()
        return True
