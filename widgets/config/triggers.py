"""Proactive triggers: when the widget reaches out first.

Validated here for the admin and the API; compiled here (`trigger_plan`) into what the
loader runs on a page view without intent (frontend/src/loader.js), so the 2 KB loader
needs no glob matcher: the URL rules become one case-insensitive regular expression over
`location.href`, and the scroll threshold a fraction of the scrollable height.
"""

from __future__ import annotations

import re
from typing import Any, NotRequired, TypedDict

ACTIONS = ("teaser", "open")
MAX_GLOBS = 20
# What a regular expression treats specially, escaped so a glob's other characters are literal.
REGEX_SPECIAL = re.compile(r"[.+?^${}()|[\]\\]")


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


class TriggerPlan(TypedDict):
    """One page view's trigger, for the loader. Absent keys do not apply."""

    # This page may trigger when the pattern matches `location.href` (case-insensitive).
    page: NotRequired[str]
    # ...and this is at least the visitor's `views`-th page view (counted in the browser).
    views: NotRequired[int]
    # Consent first: page views are counted in storage only once the visitor let the
    # widget store something.
    held: NotRequired[bool]
    # The moments that fire it, the first one wins: after `delayMs` (0: at once), ...
    delayMs: NotRequired[int]
    # ...once `scrollY` reaches this fraction of the scrollable height, ...
    scroll: NotRequired[float]
    # ...or when the pointer leaves through the top of the window.
    exitIntent: NotRequired[bool]


def _globs(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value] if isinstance(value, str) else []


def _positive(value: Any) -> int | float:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else 0
    return number if number > 0 else 0


def _glob_body(glob: str, star: str) -> str:
    return "".join(
        star if part == "*" else REGEX_SPECIAL.sub(r"\\\g<0>", part)
        for part in re.split(r"(\*)", re.sub(r"\*+", "*", glob))
        if part
    )


def glob_pattern(glob: str) -> str:
    """A regular expression (JavaScript and Python alike) matching the whole `href` of a
    page the glob names: `*` is a wildcard; a glob starting with `/` is matched against
    the path, or the path and query, whatever comes before or after."""
    if not glob.startswith("/"):
        return _glob_body(glob, ".*")
    path = _glob_body(glob, "[^?#]*")  # the path alone, any query after it
    path_and_query = _glob_body(glob, "[^#]*")
    return f"[^:/?#]+://[^/?#]*(?:{path}(?:\\?[^#]*)?|{path_and_query})(?:#.*)?"


def _any_of(globs: list[str]) -> str:
    patterns = [glob_pattern(g) for g in globs if isinstance(g, str) and g]
    return f"(?:{'|'.join(patterns)})" if patterns else "(?!)"


def page_pattern(include: Any, exclude: Any) -> str | None:
    """One pattern for `urlInclude` and `urlExclude` (None: every page may trigger)."""
    included, excluded = _globs(include), [g for g in _globs(exclude) if isinstance(g, str) and g]
    if not included and not excluded:
        return None
    pattern = "^"
    if excluded:
        pattern += f"(?!{_any_of(excluded)}$)"
    if included:
        pattern += f"{_any_of(included)}$"
    return pattern


def trigger_plan(triggers: Any, *, consent_first: bool) -> TriggerPlan | None:
    """What the loader runs for a validated `triggers` config; None when nothing may fire
    (the default `{}`). `action` is left to the core: it shows the teaser or opens the
    chat with the config (and the A/B variant) of the session the trigger starts."""
    if not isinstance(triggers, dict) or not triggers:
        return None
    plan: TriggerPlan = {}
    page = page_pattern(triggers.get("urlInclude"), triggers.get("urlExclude"))
    if page is not None:
        plan["page"] = page
    views = int(_positive(triggers.get("minPageViews")))
    if views > 1:
        plan["views"] = views
        if consent_first:
            plan["held"] = True
    delay = int(_positive(triggers.get("delayMs")))
    scroll = _positive(triggers.get("scrollPercent"))
    exit_intent = triggers.get("exitIntent") is True
    if delay or not (scroll or exit_intent):
        plan["delayMs"] = delay  # no moment set: an eligible page fires at once
    if scroll:
        # The widget rounds the percentage it measures: 49.5 % of the way counts as 50.
        plan["scroll"] = round((min(scroll, 100) - 0.5) / 100, 6)
    if exit_intent:
        plan["exitIntent"] = True
    return plan
