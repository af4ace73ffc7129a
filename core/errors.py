"""Typed errors of public entry points, mapped once to `{"error": {code, message}}`."""

from __future__ import annotations


class ApiError(Exception):
    """An error a client should see: a stable code, a human message and an HTTP status."""

    status = 400
    code = "invalid_request"
    default_message = "The request is invalid."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.message = message or self.default_message
        self.headers = headers or {}
        if code is not None:
            self.code = code
        super().__init__(self.message)


class InvalidRequest(ApiError):
    status = 400
    code = "invalid_request"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class NotAuthenticated(ApiError):
    status = 401
    code = "not_authenticated"
    default_message = "Authentication credentials were not provided or are invalid."


class InvalidSessionToken(ApiError):
    status = 401
    code = "invalid_token"
    default_message = "The session token is missing, invalid or expired."


class InvalidRefreshToken(ApiError):
    status = 401
    code = "invalid_refresh_token"
    default_message = "The refresh token is invalid, expired or already used."


class InvalidCustomerToken(ApiError):
    status = 401
    code = "invalid_customer_token"
    default_message = "The customer token could not be verified."


class OriginNotAllowed(ApiError):
    status = 403
    code = "origin_not_allowed"
    default_message = "This website is not allowed to use this agent."


class IpBlocked(ApiError):
    status = 403
    code = "ip_blocked"
    default_message = "Requests from your network are blocked."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests; slow down."


class ReadOnlyKey(ApiError):
    status = 403
    code = "read_only_key"
    default_message = "This API key is read-only: issue one with 'can write' to change data."


class StaffRequired(ApiError):
    status = 403
    code = "staff_required"
    default_message = "The integrator API is for active staff users and workspace API keys."


class LockedOut(RateLimited):
    """Too many failed sign-ins for this account or from this address (django-axes)."""

    code = "locked_out"
    default_message = "Too many failed sign-in attempts; try again later."
