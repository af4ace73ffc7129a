"""The OpenAPI schema of /api/v2/ (drf-spectacular), made to say what the server sends.

Errors are written once: every error answer is the contract's `{"error": {code, message}}`
(the `Error` component), and `ApiAutoSchema` declares on each operation the errors its
shape makes possible — 400 when it takes a body or query parameters, 401 and 403 when it
needs a principal (security.api_access), 404 when its path names an object. A view
declares only what is its own (409 `nothing_to_publish`, 413, 429) with `error_responses`.
`config/tests/test_openapi_contract.py` holds every operation to its schema.
"""

from __future__ import annotations

import typing
from typing import Any, NotRequired

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import resolve_type_hint
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# What each status means in this API, by error code (core/exceptions.py, core.errors).
ERROR_CODES: dict[int, str] = {
    400: "invalid_request (with `fields` for a body that fails validation)",
    401: "not_authenticated",
    403: "forbidden, read_only_key or staff_required",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited (with Retry-After)",
}


class ErrorDetail(serializers.Serializer[Any]):
    # Declared in get_fields: a field named `fields` cannot be a class attribute of a
    # serializer (it is the serializer's own list of fields).
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "code": serializers.CharField(help_text="Stable, for programs: `not_found`."),
            "message": serializers.CharField(help_text="For people; may change."),
            "fields": serializers.DictField(
                required=False,
                child=serializers.JSONField(),
                help_text="400 `invalid_request`: the problems of each field of the body.",
            ),
        }


class Error(serializers.Serializer[Any]):
    """Every error answer of the API."""

    error = ErrorDetail()


def error_responses(*statuses: int, **codes: str) -> dict[int, OpenApiResponse]:
    """`{status: the Error response}` for `extend_schema(responses=…)`; a keyword names the
    codes a status stands for in this operation: `error_responses(409, e409="conflict")`."""
    return {
        status: OpenApiResponse(Error, description=codes.get(f"e{status}", ERROR_CODES[status]))
        for status in statuses
    }


def typed_dict_schema(hint: Any) -> dict[str, Any]:
    """The schema of a service's TypedDict answer (mypy already holds the code to it), for
    `extend_schema(responses={200: typed_dict_schema(Snippets)})`."""
    _declare_optional_keys(hint, seen=set())
    schema: dict[str, Any] = resolve_type_hint(hint)
    return schema


def _declare_optional_keys(hint: Any, *, seen: set[int]) -> None:
    """Make `NotRequired` keys optional again in `hint` and the TypedDicts it holds.

    Python 3.11 reads a TypedDict's keys from its annotations as written; with
    `from __future__ import annotations` they are strings, so `NotRequired[...]` goes
    unseen and every key counts as required (fixed in 3.12).
    """
    if id(hint) in seen:
        return
    seen.add(id(hint))
    for argument in typing.get_args(hint):
        _declare_optional_keys(argument, seen=seen)
    if not typing.is_typeddict(hint):
        return
    hints = typing.get_type_hints(hint, include_extras=True)
    optional = {key for key, value in hints.items() if typing.get_origin(value) is NotRequired}
    if optional - hint.__optional_keys__:
        hint.__required_keys__ = frozenset(hint.__required_keys__ - optional)
        hint.__optional_keys__ = frozenset(hint.__optional_keys__ | optional)
    for value in hints.values():
        _declare_optional_keys(value, seen=seen)


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers every operation of this shape
    gives, so a new view cannot forget them."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        places = {parameter["in"] for parameter in operation.get("parameters", [])}
        implied = []
        if "requestBody" in operation or "query" in places:
            implied.append(400)
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            implied += [401, 403]
        if "path" in places:
            implied.append(404)
        responses = operation["responses"]
        for status in implied:
            responses.setdefault(str(status), {"description": ERROR_CODES[status]})
        for status, response in responses.items():
            # An error a view declared by its description alone still has the Error body.
            if status >= "400" and "content" not in response:
                response["content"] = self._get_response_for_code(
                    Error, status, direction="response"
                )["content"]
        operation["responses"] = dict(sorted(responses.items()))
        return operation


class TokenObtainIn(serializers.Serializer[Any]):
    username = serializers.CharField()
    password = serializers.CharField()


class TokenRefreshIn(serializers.Serializer[Any]):
    refresh = serializers.CharField()


class TokenPairOut(serializers.Serializer[Any]):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="Good once, for the next pair.")


class StaffTokenObtainSchema(OpenApiViewExtension):
    """`POST /api/v2/auth/token` (simplejwt with security.staff_tokens' rules)."""

    target_class = "rest_framework_simplejwt.views.TokenObtainPairView"

    def view_replacement(self) -> type:
        @extend_schema(
            request=TokenObtainIn,
            responses={
                200: TokenPairOut,
                **error_responses(
                    400,
                    401,
                    403,
                    429,
                    e401="not_authenticated: no active account with these credentials",
                    e403="staff_required",
                    e429="locked_out: too many failed sign-ins (with Retry-After)",
                ),
            },
        )
        class Fixed(self.target_class):  # type: ignore[name-defined]
            pass

        return Fixed


class StaffTokenRefreshSchema(OpenApiViewExtension):
    """`POST /api/v2/auth/token/refresh`: a refresh token is good once."""

    target_class = "rest_framework_simplejwt.views.TokenRefreshView"

    def view_replacement(self) -> type:
        @extend_schema(
            request=TokenRefreshIn,
            responses={
                200: TokenPairOut,
                **error_responses(400, 401, e401="invalid_refresh_token or not_authenticated"),
            },
        )
        class Fixed(self.target_class):  # type: ignore[name-defined]
            pass

        return Fixed
