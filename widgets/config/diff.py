"""A readable difference between two public widget configs (releases or the draft).

Field by field, nested objects (theme, triggers) key by key, each change with a label
people understand: `Theme > Primary color: "#4f46e5" → "#0f766e"`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypedDict

LABELS = {
    "agentId": "Agent id",
    "name": "Name",
    "greeting": "Greeting",
    "avatarUrl": "Avatar URL",
    "theme": "Theme",
    "position": "Position",
    "customCss": "Custom CSS",
    "features": "Features",
    "triggers": "Triggers",
    "starterPrompts": "Starter prompts",
    "delayMs": "Delay (ms)",
    "urlInclude": "Only on URLs",
    "urlExclude": "Never on URLs",
    "offsetX": "Offset X",
    "offsetY": "Offset Y",
}
ORDER = {key: i for i, key in enumerate(list(LABELS)[:10])}  # the PublicConfig fields
SHORT_VALUE = 80  # characters of a value shown in the text; longer ones are summarized
_MISSING = object()


class FieldChange(TypedDict):
    path: str  # "theme.primaryColor"
    label: str  # "Theme > Primary color"
    change: str  # "added", "removed" or "changed"
    before: Any
    after: Any
    text: str  # one line for people


def label_for(key: str) -> str:
    """`primaryColor` → "Primary color", unless LABELS knows better."""
    if key in LABELS:
        return LABELS[key]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower() if words else key


def config_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """Every difference from `before` to `after`; empty when they are the same."""
    return _diff(before, after, path=(), labels=())


def _diff(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    path: tuple[str, ...],
    labels: tuple[str, ...],
) -> list[FieldChange]:
    changes: list[FieldChange] = []
    # A stable order whatever the database did to the keys (PostgreSQL's jsonb sorts them
    # its own way): the public config's fields as the widget lists them, nested keys A-Z.
    keys = sorted({*before, *after}, key=lambda k: (ORDER.get(k, len(ORDER)), k))
    for key in keys:
        old, new = before.get(key, _MISSING), after.get(key, _MISSING)
        here, named = (*path, key), (*labels, label_for(key))
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            changes += _diff(old, new, path=here, labels=named)
        elif old != new:
            changes.append(_change(here, named, old, new))
    return changes


def _change(path: tuple[str, ...], labels: tuple[str, ...], old: Any, new: Any) -> FieldChange:
    label = " > ".join(labels)
    if old is _MISSING:
        kind, text = "added", f"{label}: set to {_shown(new)}"
    elif new is _MISSING:
        kind, text = "removed", f"{label}: removed (was {_shown(old)})"
    else:
        kind, text = "changed", f"{label}: {_shown(old)} → {_shown(new)}"
        if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > SHORT_VALUE:
            text = f"{label}: changed ({len(old):,} → {len(new):,} characters)"
        elif isinstance(old, list) and isinstance(new, list):
            text = f"{label}: {_list_change(old, new)}"
    return {
        "path": ".".join(path),
        "label": label,
        "change": kind,
        "before": None if old is _MISSING else old,
        "after": None if new is _MISSING else new,
        "text": text,
    }


def _list_change(old: list[Any], new: list[Any]) -> str:
    added = [item for item in new if item not in old]
    removed = [item for item in old if item not in new]
    if not added and not removed:
        return f"reordered to {_shown(new)}"
    parts = []
    if added:
        parts.append("added " + ", ".join(_shown(item) for item in added))
    if removed:
        parts.append("removed " + ", ".join(_shown(item) for item in removed))
    return "; ".join(parts)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHORT_VALUE else text[: SHORT_VALUE - 1] + "…"
