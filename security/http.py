"""Reading untrusted request bodies: bounded, JSON objects only, typed errors."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.http.request import RawPostDataException

from security.errors import InvalidRequest, PayloadTooLarge

JSON_TYPES = ("application/json", "text/plain")
MAX_JSON_DEPTH = 8


def json_object_body(request: HttpRequest, *, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object; `text/plain` is accepted so `sendBeacon` works."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The body must be at most {max_bytes} bytes.")
    content_type = request.content_type or ""
    if content_type not in JSON_TYPES:
        raise InvalidRequest("Send the body as application/json.")
    try:
        raw = request.body
    except RawPostDataException:
        raise InvalidRequest("The body could not be read.") from None
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The body must be at most {max_bytes} bytes.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object.")
    if _depth(data) > MAX_JSON_DEPTH:
        raise InvalidRequest(f"The body nests deeper than {MAX_JSON_DEPTH} levels.")
    return data


def _depth(value: Any) -> int:
    """How deeply containers nest in `value` (iterative: hostile input cannot overflow us)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def optional_str(data: dict[str, Any], key: str, *, max_length: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidRequest(f"'{key}' must be a string of at most {max_length} characters.")
    return value
