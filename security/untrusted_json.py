"""Decoding JSON from outside: one strict rule for every entry point that parses it.

Python's `json` accepts documents that no store of ours can keep. `"\\ud800"` decodes to a
lone surrogate — half of a UTF-16 pair, not a character — which cannot be encoded to UTF-8,
so it breaks whatever touches it later (hashing, a response, SQLite reading it back in a
task that serves every tenant). `"\\u0000"` is refused by PostgreSQL in text and jsonb, and
so are `NaN`, `Infinity` and `1e999` (which are not JSON either).

Such a document is refused, never repaired: a repaired identifier (a `clientId`, an event
id) would silently become another one, and the rule for bad input is a typed error with
nothing stored. Browsers and the widget never produce these strings from real text.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# What no string from outside may contain: NUL and the UTF-16 surrogates. `json` joins an
# escaped pair (`\ud83d\ude00`) into one character, so any surrogate left is a lone one.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_KEY_IN_PATH = 40
MAX_PATH = 200

# A place in a document: (parent place, key or index), None for the top level.
_Place = tuple["_Place", str | int] | None


class UntrustedJsonError(ValueError):
    """Why a document was refused, as the end of a sentence: "The body <reason>."."""


def untrusted_json_loads(raw: str | bytes, *, max_depth: int | None = None) -> Any:
    """Parse JSON from outside, or raise UntrustedJsonError saying what is wrong.

    Refused: invalid JSON, NaN and non-finite numbers, containers nested deeper than
    `max_depth`, and strings — keys too — with a lone surrogate or a NUL character.
    """
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except UntrustedJsonError:
        raise
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise UntrustedJsonError("is not valid JSON") from None
    problem = json_problem(value, max_depth=max_depth)
    if problem is not None:
        raise UntrustedJsonError(problem)
    return value


def json_problem(value: Any, *, max_depth: int | None = None) -> str | None:
    """What makes a decoded document unacceptable, or None.

    Iterative, so a deeply nested document cannot exhaust the interpreter's stack.
    """
    stack: list[tuple[Any, int, _Place]] = [(value, 0, None)]
    while stack:
        item, depth, place = stack.pop()
        if isinstance(item, str):
            bad = UNSTORABLE.search(item)
            if bad is not None:
                return f"has {_describe(bad.group())} at {_render(place)}"
        elif isinstance(item, dict | list):
            depth += 1
            if max_depth is not None and depth > max_depth:
                return f"nests deeper than {max_depth} levels"
            if isinstance(item, list):
                stack.extend((child, depth, (place, index)) for index, child in enumerate(item))
                continue
            for key, child in item.items():
                bad = UNSTORABLE.search(key)
                if bad is not None:
                    return f"has {_describe(bad.group())} in a key at {_render(place)}"
                stack.append((child, depth, (place, key)))
    return None


def _refuse_constant(name: str) -> Any:
    raise UntrustedJsonError(f"has {name}, which JSON does not allow")


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise UntrustedJsonError("has a number too large to store")
    return number


def _describe(character: str) -> str:
    if character == "\x00":
        return "a NUL character (\\u0000)"
    return "text that is not valid Unicode (a lone surrogate)"


def _render(place: _Place) -> str:
    """`events[0].metadata.message` for the place of a value (keys and path shortened)."""
    parts: list[str] = []
    while place is not None:
        place, step = place
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append("." + step[:MAX_KEY_IN_PATH])
    path = "".join(reversed(parts)).lstrip(".") or "the top level"
    return path if len(path) <= MAX_PATH else "…" + path[-MAX_PATH:]
