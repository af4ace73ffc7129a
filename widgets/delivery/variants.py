"""What an A/B variant may change in the widget, and the seam the experiments app plugs into.

Widgets does not import the experiments app (it sits above): the experiments app registers
a `VariantSource` when Django starts (`experiments.apps`), which loads an agent's running
experiments into the compiled snapshot and picks a visitor's variants. Without one, no
visitor is in an experiment.

A variant's `overrides` use the shape of the public config (`widget_public_config`):
`{"greeting": "...", "position": "bottom-left", "starterPrompts": [...],
"triggers": {"delayMs": 3000}, "theme": {"primaryColor": "#0f766e"}}`. `theme` and
`triggers` are merged key by key into the agent's own; the other fields replace it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast, get_type_hints

from widgets.config.triggers import triggers_validate
from widgets.config.validation import (
    HEX_COLOR,
    MAX_GREETING,
    MAX_PROMPT_LENGTH,
    MAX_PROMPTS,
    THEME_COLORS,
    position_validate,
    starter_prompts_validate,
)
from widgets.delivery.public_config import PublicConfig
from widgets.models import WidgetConfig

TRIGGER_FIELDS = ("delayMs",)
OVERRIDABLE = ("greeting", "position", "starterPrompts", "triggers", "theme")


def overrides_validate(value: Any) -> dict[str, Any]:
    """Check a variant's overrides; ValueError names the first problem."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValueError('Enter a JSON object such as {"greeting": "Need a hand?"}.')
    public_fields = get_type_hints(PublicConfig)
    unknown = sorted(key for key in value if key not in OVERRIDABLE or key not in public_fields)
    if unknown:
        raise ValueError(
            f"Not something a variant can change: {', '.join(unknown)} "
            f"(use {', '.join(OVERRIDABLE)})."
        )
    checked: dict[str, Any] = {}
    if "greeting" in value:
        greeting = value["greeting"]
        if not isinstance(greeting, str) or not 0 < len(greeting.strip()) <= MAX_GREETING:
            raise ValueError(f"greeting must be text of 1-{MAX_GREETING} characters.")
        checked["greeting"] = greeting.strip()
    if "position" in value:
        try:
            checked["position"] = position_validate(value["position"])
        except ValueError:
            positions = ", ".join(WidgetConfig.Position.values)
            raise ValueError(f"position must be one of {positions}.") from None
    if "starterPrompts" in value:
        checked["starterPrompts"] = _prompts(value["starterPrompts"])
    if "triggers" in value:
        checked["triggers"] = _triggers(value["triggers"])
    if "theme" in value:
        checked["theme"] = _theme(value["theme"])
    return checked


def _prompts(prompts: Any) -> list[str]:
    """The widget's own rule (a list is required here: `null` is not "no prompts")."""
    try:
        if isinstance(prompts, list):
            return starter_prompts_validate(prompts)
    except ValueError:
        pass
    raise ValueError(
        f"starterPrompts must be up to {MAX_PROMPTS} questions of at most "
        f"{MAX_PROMPT_LENGTH} characters."
    )


def _triggers(triggers: Any) -> dict[str, Any]:
    if not isinstance(triggers, dict) or not triggers or set(triggers) - set(TRIGGER_FIELDS):
        raise ValueError(f"triggers may change only {', '.join(TRIGGER_FIELDS)}.")
    return triggers_validate(triggers)


def _theme(theme: Any) -> dict[str, str]:
    if not isinstance(theme, dict) or not theme or set(theme) - set(THEME_COLORS):
        raise ValueError(f"theme may change only the colours {', '.join(THEME_COLORS)}.")
    for key, color in theme.items():
        if not isinstance(color, str) or not HEX_COLOR.match(color):
            raise ValueError(f"theme.{key} must be a hex colour such as #0f766e.")
    return dict(theme)


def config_with_overrides(config: PublicConfig, overrides: dict[str, Any]) -> PublicConfig:
    """The public config as a visitor in the variant sees it (the input is not changed)."""
    merged = cast(dict[str, Any], copy.deepcopy(config))
    for key, value in overrides.items():
        if key not in merged:
            continue  # never add a field the widget was not given
        if isinstance(value, dict) and isinstance(merged[key], dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = copy.deepcopy(value)
    return cast(PublicConfig, merged)


@dataclass(frozen=True)
class LiveVariant:
    key: str
    weight: int
    overrides: dict[str, Any]


@dataclass(frozen=True)
class LiveExperiment:
    key: str
    variants: tuple[LiveVariant, ...]


@dataclass(frozen=True)
class Assignment:
    """A visitor's variants: `{experimentKey: variantKey}`, the overrides to apply, and the
    label stamped on their events."""

    variants: dict[str, str]
    overrides: dict[str, Any]
    label: str


NO_ASSIGNMENT = Assignment(variants={}, overrides={}, label="")


@dataclass(frozen=True)
class VariantSource:
    """How running experiments reach the widget: `load(agent_pk)` is compiled into the
    agent's snapshot; `assign(experiments, visitor_id)` picks a visitor's variants."""

    load: Callable[[int], tuple[LiveExperiment, ...]]
    assign: Callable[[Sequence[LiveExperiment], str], Assignment]


_NO_SOURCE = VariantSource(load=lambda agent_pk: (), assign=lambda live, visitor: NO_ASSIGNMENT)
_sources = [_NO_SOURCE]


def variant_source_register(source: VariantSource) -> None:
    """Make `source` the one the widget asks (the experiments app, once, at start-up)."""
    _sources[:] = [source]


def live_experiments_load(agent_pk: int) -> tuple[LiveExperiment, ...]:
    """The agent's running experiments with their variants (widgets.delivery.snapshots
    compiles them into the agent's snapshot)."""
    return _sources[0].load(agent_pk)


def assignment_for(experiments: Sequence[LiveExperiment], *, visitor_id: str) -> Assignment:
    """Which variant this visitor sees in each of `experiments` (sticky, no query)."""
    return _sources[0].assign(experiments, visitor_id)
