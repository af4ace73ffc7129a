"""The rules a widget config follows, written once for the admin form, the REST API, JSON
import and presets. Each rule takes a raw value and returns the clean one, or raises
ValueError with a message a person can act on.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from core.errors import InvalidRequest
from security.domains import invalid_patterns
from security.limits import limit_overrides_validate
from widgets.config.css_check import css_errors, css_errors_text
from widgets.config.triggers import triggers_validate
from widgets.models import CoreBuild, WidgetConfig

MAX_PROMPTS, MAX_PROMPT_LENGTH = 4, 80
MAX_CUSTOM_CSS = 20_000  # characters; the customizer may show it, the widget inlines it
MAX_GREETING = 500  # Agent.greeting
MAX_THEME_KEYS = 30
MAX_FEATURES = 20
FEATURE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# What the widget reads (frontend/src/core/theme.js); other keys are kept and ignored.
THEME_COLORS = ("primaryColor", "backgroundColor", "textColor")
THEME_LENGTHS = ("radius", "borderRadius", "launcherSize", "offsetX", "offsetY")
THEME_MODES = ("light", "dark", "auto")
# frontend/src/core/theme.js LAUNCHER_ICONS: the widget draws only these.
LAUNCHER_ICONS = ("chat", "forum", "bolt")
PLAIN_VALUE = re.compile(r"^[\w\s#%.,()'\"/-]{1,120}$")
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_HOST = 253


class WidgetConfigInvalid(InvalidRequest):
    """Some fields break the rules; `errors` maps each API field name to its problem."""

    code = "invalid_widget_config"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        problems = (f"{field}: {problem.rstrip('.')}" for field, problem in errors.items())
        super().__init__("; ".join(problems) + ".")


def allowed_domains_validate(value: Any) -> list[str]:
    value = value or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('Enter a JSON list of hosts, e.g. ["shop.example.com"].')
    bad = invalid_patterns(value)
    if bad:
        raise ValueError(f"Not a host or *.host pattern: {', '.join(bad)}")
    return [v.strip() for v in value]


def starter_prompts_validate(value: Any) -> list[str]:
    value = value or []
    if (
        not isinstance(value, list)
        or len(value) > MAX_PROMPTS
        or not all(isinstance(v, str) and 0 < len(v.strip()) <= MAX_PROMPT_LENGTH for v in value)
    ):
        raise ValueError(
            f"Enter up to {MAX_PROMPTS} questions of at most {MAX_PROMPT_LENGTH} characters."
        )
    return [v.strip() for v in value]


def theme_validate(value: Any) -> dict[str, Any]:
    """A JSON object; the keys the widget reads must hold values it can use."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or len(value) > MAX_THEME_KEYS:
        raise ValueError(
            f'Enter a JSON object of at most {MAX_THEME_KEYS} settings, e.g. {{"primaryColor": '
            '"#4f46e5", "mode": "dark"}.'
        )
    for key, item in value.items():
        if isinstance(item, bool) or not isinstance(item, str | int | float | type(None)):
            raise ValueError(f"theme.{key} must be text or a number.")
        if isinstance(item, str) and len(item) > 200:
            raise ValueError(f"theme.{key} is longer than 200 characters.")
    for key in THEME_COLORS:
        color = value.get(key)
        if color is not None and not (isinstance(color, str) and HEX_COLOR.match(color.strip())):
            raise ValueError(f"theme.{key} must be a hex colour such as #4f46e5.")
    font = value.get("fontFamily")
    if font is not None and not (
        isinstance(font, str) and PLAIN_VALUE.match(font) and "url(" not in font.lower()
    ):
        raise ValueError("theme.fontFamily must be a plain font list, e.g. 'Inter, sans-serif'.")
    for key in THEME_LENGTHS:
        length = value.get(key)
        if length is not None and not isinstance(length, int | float):
            raise ValueError(f"theme.{key} must be a number of pixels.")
    if value.get("mode", "light") not in THEME_MODES:
        raise ValueError(f"theme.mode must be one of: {', '.join(THEME_MODES)}.")
    if value.get("launcherIcon", "chat") not in LAUNCHER_ICONS:
        raise ValueError(f"theme.launcherIcon must be one of: {', '.join(LAUNCHER_ICONS)}.")
    return dict(value)


def features_validate(value: Any) -> list[str]:
    value = ["chat"] if value is None else value
    if (
        not isinstance(value, list)
        or len(value) > MAX_FEATURES
        or not all(isinstance(v, str) and FEATURE.match(v) for v in value)
    ):
        raise ValueError('Enter a JSON list of feature names, e.g. ["chat", "white_label"].')
    return list(dict.fromkeys(value))  # once each, order kept


def position_validate(value: Any) -> str:
    if value not in WidgetConfig.Position.values:
        raise ValueError(f"Choose one of: {', '.join(WidgetConfig.Position.values)}.")
    return str(value)


def custom_css_validate(value: Any) -> str:
    value = "" if value is None else value
    if not isinstance(value, str):
        raise ValueError("Enter CSS as text.")
    if len(value) > MAX_CUSTOM_CSS:
        raise ValueError(f"At most {MAX_CUSTOM_CSS:,} characters of CSS.")
    errors = css_errors(value)
    if errors:
        raise ValueError(css_errors_text(errors))
    return value


def custom_domain_validate(value: Any) -> str:
    """A host name of the customer's own (chat.example.com), not an IP address and not the
    platform's own host; lowercased, without a trailing dot. Empty means none."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise ValueError("Enter a host name such as chat.example.com.")
    host = value.strip().lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValueError("Enter a host name, not an IP address.")
    labels = host.split(".")
    if (
        len(host) > MAX_HOST
        or len(labels) < 2
        or not all(HOST_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError("Enter a host name such as chat.example.com (no scheme, port or path).")
    if host == (urlsplit(settings.PUBLIC_BASE_URL).hostname or "").lower():
        raise ValueError("That is the platform's own host; enter a host of your own.")
    return host


def rate_limits_validate(value: Any) -> dict[str, int]:
    return limit_overrides_validate(value)


def greeting_validate(value: Any) -> str:
    if not isinstance(value, str) or len(value.strip()) > MAX_GREETING:
        raise ValueError(f"Enter a greeting of at most {MAX_GREETING} characters.")
    return value.strip()


def avatar_url_validate(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError("Enter an http(s) URL of at most 200 characters.")
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValueError("Enter an http(s) URL.") from None
    return value


def core_version_validate(value: Any) -> str:
    """A pin: empty (follow stable) or the version of a registered build."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not CoreBuild.objects.filter(version=value).exists():
        raise ValueError("Not a registered widget build (see Core builds), or empty for stable.")
    return value


# API field name -> (the rule, where it is stored: "config" field or "agent" field).
RULES: dict[str, tuple[Callable[[Any], Any], str, str]] = {
    "theme": (theme_validate, "config", "theme"),
    "position": (position_validate, "config", "position"),
    "customCss": (custom_css_validate, "config", "custom_css"),
    "features": (features_validate, "config", "features"),
    "starterPrompts": (starter_prompts_validate, "config", "starter_prompts"),
    "triggers": (triggers_validate, "config", "triggers"),
    "greeting": (greeting_validate, "agent", "greeting"),
    "avatarUrl": (avatar_url_validate, "agent", "avatar_url"),
    "allowedDomains": (allowed_domains_validate, "config", "allowed_domains"),
    "rateLimits": (rate_limits_validate, "config", "rate_limits"),
    "coreVersion": (core_version_validate, "config", "core_version"),
    "customDomain": (custom_domain_validate, "config", "custom_domain"),
}
# The same rules by model field name, for the admin's WidgetConfigForm.
FORM_RULES: dict[str, Callable[[Any], Any]] = {
    field: rule for rule, owner, field in RULES.values() if owner == "config"
}
# What a release snapshots and a JSON export carries: appearance and behaviour. Allowed
# domains and rate limits are security settings and always apply at once.
APPEARANCE_FIELDS = (
    "theme",
    "position",
    "customCss",
    "features",
    "starterPrompts",
    "triggers",
    "greeting",
    "avatarUrl",
)
SECURITY_FIELDS = ("allowedDomains", "rateLimits")


# The widget code build the agent is pinned to (widgets.publishing.core_builds); applies at once.
PIN_FIELDS = ("coreVersion",)
# Where the widget is served from (docs/custom-domain.md); applies at once, never released.
DOMAIN_FIELDS = ("customDomain",)


def widget_fields_validate(values: dict[str, Any], *, allowed: tuple[str, ...]) -> dict[str, Any]:
    """Clean every field in `values` (API names); unknown fields are refused. All problems
    are reported together in a WidgetConfigInvalid."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in allowed or name not in RULES:
            errors[name] = f"not a widget setting here (use {', '.join(allowed)})"
            continue
        try:
            clean[name] = RULES[name][0](raw)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise WidgetConfigInvalid(errors)
    return clean
