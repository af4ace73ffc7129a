"""Proactive triggers: when the widget reaches out first (validated here, run in the widget)."""

from __future__ import annotations

from typing import Any

ACTIONS = ("teaser", "open")
MAX_GLOBS = 20


def triggers_validate(value: Any) -> dict[str, Any]:
    """Check a triggers config; ValueError names the first problem, for the admin."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValueError('Enter a JSON object such as {"delayMs": 5000}.')
    known = {
        "delayMs",
        "scrollPercent",
        "exitIntent",
        "urlInclude",
        "urlExclude",
        "minPageViews",
        "action",
    }
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValueError(f"Unknown trigger settings: {', '.join(unknown)}.")
    _whole(value, "delayMs", 0, 3_600_000)
    _whole(value, "scrollPercent", 1, 100)
    _whole(value, "minPageViews", 1, 1000)
    if "exitIntent" in value and not isinstance(value["exitIntent"], bool):
        raise ValueError("exitIntent must be true or false.")
    for key in ("urlInclude", "urlExclude"):
        globs = value.get(key, [])
        if (
            not isinstance(globs, list)
            or len(globs) > MAX_GLOBS
            or not all(isinstance(g, str) and 0 < len(g) <= 200 for g in globs)
        ):
            raise ValueError(f"{key} must be a list of at most {MAX_GLOBS} URL patterns.")
    if value.get("action", "teaser") not in ACTIONS:
        raise ValueError(f"action must be one of: {', '.join(ACTIONS)}.")
    return dict(value)


def _whole(value: dict[str, Any], key: str, low: int, high: int) -> None:
    if key in value:
        number = value[key]
        if not isinstance(number, int) or isinstance(number, bool) or not low <= number <= high:
            raise ValueError(f"{key} must be a whole number from {low} to {high}.")
