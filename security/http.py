"""Reading untrusted request bodies: bounded, strict JSON objects only, typed errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.http import HttpRequest
from django.http.request import RawPostDataException
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.errors import InvalidRequest, PayloadTooLarge
from security.untrusted_json import UntrustedJsonError, untrusted_json_loads

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
        data = untrusted_json_loads(raw, max_depth=MAX_JSON_DEPTH)
    except UntrustedJsonError as exc:
        raise InvalidRequest(f"The body {exc}.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return data


class StrictJSONParser(JSONParser):
    """DRF's JSON parser (the REST API's default) with the rule for all outside JSON."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"The body is not valid {encoding} text.") from None
        try:
            return untrusted_json_loads(text)
        except UntrustedJsonError as exc:
            raise ParseError(f"The body {exc}.") from None


def optional_str(data: dict[str, Any], key: str, *, max_length: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidRequest(f"'{key}' must be a string of at most {max_length} characters.")
    return value
