"""Pagination of the integrator API's lists: `limit` and `offset`, refused when malformed.

DRF's LimitOffsetPagination quietly reads `limit=abc` or `offset=-1` as its default; here
they answer 400 `invalid_request`, as any other bad input does, and the schema says which
values are taken.
"""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from security.errors import InvalidRequest


def _count(request: Request, name: str, *, minimum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise InvalidRequest(f"'{name}' must be a whole number of at least {minimum}.")
    return int(raw)


class StrictLimitOffsetPagination(LimitOffsetPagination):
    def get_limit(self, request: Request) -> int | None:
        limit = _count(request, self.limit_query_param, minimum=1)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        offset = _count(request, self.offset_query_param, minimum=0)
        return offset or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        minimums = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            parameter["schema"]["minimum"] = minimums[parameter["name"]]
        return parameters
