"""The named limits on everything that reaches us from outside, with per-agent overrides."""

from __future__ import annotations

from typing import Any

from security.ratelimit import Limit

# name: (hits, window in seconds). Agents may override the hits, not the windows.
DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "session_per_ip": (30, 60),
    "session_per_agent_domain": (1200, 60),
    "connect_per_ip": (60, 60),
    "message_per_visitor": (20, 60),
    "frame_per_connection": (60, 10),
    "events_per_visitor": (120, 60),
    "history_per_visitor": (120, 60),
}
MAX_OVERRIDE = 100_000


def limit_overrides_validate(value: Any) -> dict[str, int]:
    """Check an agent's overrides (`{"session_per_ip": 100}`); ValueError says what is wrong."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValueError('Enter a JSON object such as {"session_per_ip": 100}.')
    unknown = sorted(set(value) - set(DEFAULT_LIMITS))
    if unknown:
        raise ValueError(
            f"Unknown limits: {', '.join(unknown)}. Known: {', '.join(DEFAULT_LIMITS)}."
        )
    for name, hits in value.items():
        if not isinstance(hits, int) or isinstance(hits, bool) or not 1 <= hits <= MAX_OVERRIDE:
            raise ValueError(f"{name} must be a whole number from 1 to {MAX_OVERRIDE}.")
    return dict(value)


def limit_for(name: str, overrides: dict[str, int] | None = None) -> Limit:
    hits, window = DEFAULT_LIMITS[name]
    if overrides and isinstance(overrides.get(name), int):
        hits = overrides[name]
    return Limit(name=name, rate=hits, window=window)
