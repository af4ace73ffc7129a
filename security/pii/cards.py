"""Payment card numbers: 13-19 digits in groups, Luhn-valid, with a plausible issuer prefix."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import luhn

# Digit groups joined by single spaces or dashes. Each repetition needs its separator, so
# a run matches in one linear pass however long (a 4,000-digit string is one group).
_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ -][0-9]+)*")
_GROUP = re.compile(r"[0-9]+")

# Cards are written in groups of 4 (Amex 4-6-5, Diners 4-6-4) or without separators. Groups
# of one or two digits are dates, expiry months or quantities, so they end a candidate:
# "4242 4242 4242 4242 12/26" is a card followed by its expiry.
_MIN_GROUP, _MAX_DIGITS, _MIN_DIGITS = 3, 19, 13
# Issuers use 2 (Mastercard 2-series), 3 (Amex, Diners, JCB), 4 (Visa), 5 (Mastercard,
# Maestro) and 6 (Discover, UnionPay); 1, 7, 8, 9 and 0 start account, order or
# tracking numbers, not cards.
_ISSUER_DIGITS = frozenset("23456")
# When several lengths pass Luhn from one start, the common card lengths win.
_LENGTH_PREFERENCE = {16: 0, 15: 1, 14: 2, 19: 3, 13: 4, 18: 5, 17: 6}


def find_cards(text: str) -> Iterator[tuple[int, int]]:
    """Spans of card numbers in text whose digits are ASCII."""
    for run in _RUN.finditer(text):
        groups = [(g.start(), g.end()) for g in _GROUP.finditer(text, run.start(), run.end())]
        index = 0
        while index < len(groups):
            last = _card_end(text, groups, index)
            if last is None:
                index += 1
                continue
            yield groups[index][0], groups[last][1]
            index = last + 1


def _card_end(text: str, groups: list[tuple[int, int]], first: int) -> int | None:
    """Index of the group that ends a valid card starting at group `first`, if any."""
    if text[groups[first][0]] not in _ISSUER_DIGITS:
        return None
    digits = ""
    candidates: list[tuple[int, int, str]] = []
    for index in range(first, len(groups)):
        start, end = groups[index]
        if end - start < _MIN_GROUP or len(digits) + end - start > _MAX_DIGITS:
            break
        digits += text[start:end]
        if len(digits) >= _MIN_DIGITS:
            candidates.append((_LENGTH_PREFERENCE[len(digits)], index, digits))
    for _, index, number in sorted(candidates):
        if luhn.is_valid(number):
            return index
    return None
