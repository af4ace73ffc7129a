"""Pagination of the integrator API's lists: `limit` and `offset`, refused when malformed.

DRF's LimitOffsetPagination quietly reads `limit=abc` or `offset=-1` as its default; here
they answer 400 `invalid_request`, as any other bad input does, and the schema says which
values are taken.
"""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from core.errors import InvalidRequest

# A page holds at most MAX_LIMIT items; an offset beyond MAX_OFFSET is refused too (a
# number PostgreSQL cannot hold was a 500, found by the schema tests).
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000
BOUNDS = {"limit": (1, MAX_LIMIT), "offset": (0, MAX_OFFSET)}


def _count(request: Request, name: str, *, minimum: int, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= maximum:
        raise InvalidRequest(f"'{name}' must be a whole number from {minimum} to {maximum}.")
    return int(raw)


class StrictLimitOffsetPagination(LimitOffsetPagination):
    def get_limit(self, request: Request) -> int | None:
        limit = _count(request, self.limit_query_param, minimum=1, maximum=MAX_LIMIT)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        offset = _count(request, self.offset_query_param, minimum=0, maximum=MAX_OFFSET)
        return offset or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: BOUNDS["limit"],
            self.offset_query_param: BOUNDS["offset"],
        }
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"]["minimum"], parameter["schema"]["maximum"] = low, high
        return parameters
