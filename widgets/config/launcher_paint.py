"""The launcher's look before the core is in: the CSS variables, corner and icon the loader
paints it with on a page view without intent.

The same rules as the widget's own (frontend/src/core/theme.js: `themeVariables`,
`isLeftPosition`, `launcherIconPath`), so the launcher looks the same before and after the
core takes over; `widgets/tests/launcher_cases.json` holds both sides to the same answers.
Every value is a declaration value the loader sets with `style.setProperty`, which cannot
turn it into a new rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, TypedDict

from widgets.config.contrast import HEX, ink_on

COLOR_PROPERTIES = {
    "primaryColor": "--ca-primary",
    "backgroundColor": "--ca-bg",
    "textColor": "--ca-text",
    "fontFamily": "--ca-font",
}
# Lengths in px: (property, min, max)
LENGTH_PROPERTIES = {
    "radius": ("--ca-radius", 0, 32),
    "borderRadius": ("--ca-radius", 0, 32),  # the v1 name
    "launcherSize": ("--ca-size", 40, 96),
    "offsetX": ("--ca-x", 0, 400),
    "offsetY": ("--ca-y", 0, 400),
}
# 24x24 paths; theme.launcherIcon names one, a path never comes from the config.
LAUNCHER_ICONS = {
    "chat": "M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z",
    "forum": "M21 6h-2v9H6v2c0 .55.45 1 1 1h11l4 4V7c0-.55-.45-1-1-1zm-4 6V3c0-.55-.45-1-1-1H3c"
    "-.55 0-1 .45-1 1v14l4-4h10c.55 0 1-.45 1-1z",
    "bolt": "M7 2v11h3v9l7-12h-4l4-8z",
}
# Colours and font lists; no url(), no way out of the declaration. ASCII, as in JavaScript.
PLAIN_VALUE = re.compile(r"^[\w\s#%.,()'\"/-]{1,120}$", re.ASCII)
# The prefix JavaScript's parseFloat reads.
JS_FLOAT = re.compile(r"^[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


class LauncherPaint(TypedDict):
    vars: dict[str, str]  # CSS custom properties set on the widget's host element
    left: bool  # bottom-left corner
    icon: str  # the icon's SVG path


def _js_number(value: float) -> str:
    """A number as JavaScript writes it in a template string (64 -> '64', 2.5 -> '2.5')."""
    return str(int(value)) if value == int(value) else repr(value)


def _length(value: Any, low: int, high: int) -> str | None:
    number: Any = value
    if isinstance(value, str):
        match = JS_FLOAT.match(value.strip())
        number = float(match.group()) if match else math.nan
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        return None
    return f"{_js_number(min(high, max(low, number)))}px"


def theme_variables(theme: Any) -> dict[str, str]:
    """{'--ca-primary': '#4f46e5', '--ca-size': '64px', ...} for the theme fields that are set."""
    variables: dict[str, str] = {}
    if not isinstance(theme, Mapping):
        return variables
    for field, prop in COLOR_PROPERTIES.items():
        value = theme.get(field)
        plain = isinstance(value, str) and PLAIN_VALUE.match(value.strip())
        if plain and "url(" not in str(value).lower():
            variables[prop] = str(value).strip()
    for field, (prop, low, high) in LENGTH_PROPERTIES.items():
        length = _length(theme.get(field), low, high)
        if length:
            variables[prop] = length
    primary = variables.get("--ca-primary")
    if primary and HEX.match(primary):
        variables["--ca-on-primary"] = ink_on(primary)
    return variables


def launcher_paint(config: Mapping[str, Any]) -> LauncherPaint:
    """How the loader paints the launcher for this published config."""
    theme = config.get("theme")
    theme = theme if isinstance(theme, Mapping) else {}
    position = theme.get("position") or config.get("position")
    icon = theme.get("launcherIcon")
    return {
        "vars": theme_variables(theme),
        "left": position == "bottom-left",
        "icon": LAUNCHER_ICONS[icon]
        if isinstance(icon, str) and icon in LAUNCHER_ICONS
        else LAUNCHER_ICONS["chat"],
    }
