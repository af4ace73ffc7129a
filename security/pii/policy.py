"""What to mask and how a masked value reads, from an agent's JSON configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypedDict


class PiiKind(StrEnum):
    CARD = "card"
    EMAIL = "email"
    PHONE = "phone"
    IBAN = "iban"
    NATIONAL_ID = "national_id"


class PiiConfig(TypedDict, total=False):
    """The JSON an admin stores, e.g. `{"enabled": true, "kinds": ["card", "email"]}`."""

    enabled: bool
    kinds: list[str]
    keep_card_last4: bool


ALL_KINDS = frozenset(PiiKind)
KIND_CHOICES = ", ".join(PiiKind)
KIND_NAMES = frozenset(kind.value for kind in PiiKind)
CONFIG_KEYS = tuple(PiiConfig.__annotations__)


@dataclass(frozen=True)
class PiiPolicy:
    """Which kinds are masked (all by default) and whether a card keeps its last four digits.

    The last four digits stay by default because that is what a support agent asks for to
    tell two cards apart; they are not enough to use the card.
    """

    kinds: frozenset[PiiKind] = ALL_KINDS
    keep_card_last4: bool = True

    @property
    def enabled(self) -> bool:
        return bool(self.kinds)

    def replacement(self, kind: PiiKind, value: str) -> str:
        """The token that stands in for `value`, e.g. `[card ending 4242]` or `[email]`."""
        if kind is PiiKind.CARD and self.keep_card_last4:
            last4 = "".join(char for char in value if char.isdigit())[-4:]
            return f"[card ending {last4}]"
        return f"[{kind.replace('_', ' ')}]"

    @classmethod
    def from_config(cls, data: Mapping[str, Any] | None) -> PiiPolicy:
        """Read a stored configuration; a missing one masks everything.

        Raises ValueError with a message fit for the admin on unknown settings, unknown
        kinds or values of the wrong type: a typo must not quietly turn masking off.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError("PII settings must be a JSON object")
        unknown = sorted(set(data) - set(CONFIG_KEYS))
        if unknown:
            raise ValueError(
                f"Unknown PII setting {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(CONFIG_KEYS)}"
            )
        enabled = _flag(data, "enabled", default=True)
        keep_card_last4 = _flag(data, "keep_card_last4", default=True)
        kinds = _kinds(data.get("kinds", list(PiiKind)))
        return cls(kinds=kinds if enabled else frozenset(), keep_card_last4=keep_card_last4)


def _flag(data: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"PII setting '{key}' must be true or false, not {value!r}")
    return value


def _kinds(value: Any) -> frozenset[PiiKind]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"PII setting 'kinds' must be a list of names from {KIND_CHOICES}")
    unknown = [v for v in value if v not in KIND_NAMES]
    if unknown:
        raise ValueError(
            f"Unknown PII kind {', '.join(map(repr, unknown))}; choose from {KIND_CHOICES}"
        )
    return frozenset(PiiKind(v) for v in value)
