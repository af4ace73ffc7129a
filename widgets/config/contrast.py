"""WCAG 2.x contrast for a widget theme: is the text the widget draws readable?

The widget (frontend/src/core/theme.js, ui/styles.js) writes text on the primary colour in
dark or light ink, whichever reads better, and uses the theme's text and background colours
(or its defaults, which differ in dark mode). These warnings check the colours it will
really use; they never block a save. The customizer's as-you-type copy of the rule is
frontend/src/admin/contrast.js (same numbers, tested on both sides).
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
NORMAL_TEXT, LARGE_TEXT = 4.5, 3.0  # WCAG 2.x AA
DEFAULT_PRIMARY = "#4f46e5"
DARK_INK, LIGHT_INK = "#111827", "#ffffff"
# The widget's palettes when the theme sets no text or background colour.
PALETTES = {"light": ("#ffffff", "#111827"), "dark": ("#111827", "#f3f4f6")}


class ContrastWarning(TypedDict):
    field: str  # the theme key to change
    mode: str  # "light" or "dark"
    ratio: float
    required: float
    message: str


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of a #rgb or #rrggbb colour (ValueError for anything else)."""
    match = HEX.match(color.strip())
    if not match:
        raise ValueError(f"Not a hex colour: {color!r}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = []
    for i in (0, 2, 4):
        c = int(digits[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """From 1 (no contrast) to 21 (black on white), rounded to two decimals."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return round((lighter + 0.05) / (darker + 0.05), 2)


def ink_on(color: str) -> str:
    """The text colour the widget puts on `color` (theme.js readableTextColor)."""
    return DARK_INK if relative_luminance(color) > 0.179 else LIGHT_INK


def _color(theme: dict[str, Any], key: str, default: str) -> str:
    value = theme.get(key)
    return value.strip() if isinstance(value, str) and HEX.match(value.strip()) else default


def theme_contrast_warnings(theme: dict[str, Any] | None) -> list[ContrastWarning]:
    """Warnings for the colour pairs below AA in each mode the theme can show."""
    theme = theme if isinstance(theme, dict) else {}
    mode = theme.get("mode")
    modes = ["light", "dark"] if mode == "auto" else ["dark" if mode == "dark" else "light"]
    primary = _color(theme, "primaryColor", DEFAULT_PRIMARY)
    warnings: list[ContrastWarning] = []
    on_primary = contrast_ratio(primary, ink_on(primary))
    if on_primary < NORMAL_TEXT:
        size = "even large text" if on_primary < LARGE_TEXT else "normal-size text"
        warnings.append(
            {
                "field": "primaryColor",
                "mode": modes[0],
                "ratio": on_primary,
                "required": NORMAL_TEXT,
                "message": f"Text on the primary colour (header, your visitor's messages) has "
                f"contrast {on_primary}:1; {size} needs {NORMAL_TEXT}:1 or more. Use a darker "
                "or lighter primary colour.",
            }
        )
    for each in modes:
        background = _color(theme, "backgroundColor", PALETTES[each][0])
        text = _color(theme, "textColor", PALETTES[each][1])
        ratio = contrast_ratio(text, background)
        if ratio < NORMAL_TEXT:
            warnings.append(
                {
                    "field": "textColor",
                    "mode": each,
                    "ratio": ratio,
                    "required": NORMAL_TEXT,
                    "message": f"Text on the background in {each} mode has contrast {ratio}:1; "
                    f"it needs {NORMAL_TEXT}:1 or more.",
                }
            )
    return warnings
